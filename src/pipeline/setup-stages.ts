/**
 * The stages before the first round (round 0): the source model — trained on the labelled source
 * set, taken from a given checkpoint, or randomly initialised (fully unsupervised) — and its
 * baseline figures on the target test split.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { exists } from '../core/atomic-fs.js';
import { AUGMENTS } from '../datasets/augment.js';
import { buildModel, disposeModel } from '../model/build-model.js';
import { Rng, deriveSeed } from '../core/random.js';
import type { ProgressSink } from '../core/progress.js';
import { writeLatest } from '../checkpoints/latest.js';
import { loadCheckpoint } from '../checkpoints/load-checkpoint.js';
import { saveCheckpoint } from '../checkpoints/save-checkpoint.js';
import { META_JSON } from '../checkpoints/checkpoint.js';
import type { Stage } from './run-stages.js';
import type { PulSession } from './pul-session.js';
import { evaluateModel } from './evaluate-model.js';
import { keepEpochLog, trainResumable } from './resumable-training.js';

export function sourceStage(session: PulSession): Stage {
  return {
    name: 'source',
    async run({ signal, progress }) {
      const config = session.config;
      const dir = session.checkpointDir(0);
      const finish = async (summary: Record<string, unknown>) => {
        await writeLatest(session.runDir, session.checkpointName(0));
        return { summary };
      };
      if (await exists(path.join(dir, META_JSON))) return finish({ reused: dir }); // saved before a crash
      const given = config.model.sourceCheckpoint;
      if (given !== undefined) {
        const { model, checkpoint } = await loadCheckpoint(given);
        try {
          await saveCheckpoint(dir, { model, normalization: checkpoint.manifest.normalization, epoch: checkpoint.manifest.epoch, training: checkpoint.manifest.training, state: { from: path.resolve(given) } });
        } finally {
          disposeModel(model);
        }
        progress.log(`source model: ${given}`);
        return finish({ from: given });
      }
      const data = await session.data();
      if (data.source.samples.length === 0) {
        // fully unsupervised: the starting point is a seeded random initialisation
        // the classifier is re-created each PUL round; cluster-contrast trains none (its memory replaces it)
        const spec = session.modelSpec(config.clustering.k ?? 1);
        const model = await buildModel(spec, new Rng(deriveSeed(config.seed, 0, 'init')));
        try {
          await saveCheckpoint(dir, { model, normalization: session.normalization(spec.input.channels), epoch: 0, state: { init: 'random' } });
        } finally {
          disposeModel(model);
        }
        progress.log('source model: random initialisation (no data.source)');
        return finish({ init: 'random' });
      }
      const st = config.sourceTraining;
      const spec = session.modelSpec(data.source.pids.length);
      const normalization = session.normalization(spec.input.channels);
      progress.log(`source training: ${data.source.samples.length} images, ${data.source.pids.length} identities, ${st.epochs} epochs`);
      const workDir = path.join(session.roundDir(0), 'training');
      const augment = AUGMENTS[config.training.augment];
      const training = { epochs: st.epochs, batchSize: st.batchSize, optimizer: st.optimizer, augment: config.training.augment, data: config.data.source?.path ?? null };
      const { model, records } = await trainResumable({
        workDir,
        initialModel: () => buildModel(spec, new Rng(deriveSeed(config.seed, 0, 'init'))),
        samples: data.source.samples,
        labels: data.source.classes,
        epochs: st.epochs,
        batchSize: st.batchSize,
        optimizer: st.optimizer,
        seed: deriveSeed(config.seed, 0, 'train'),
        normalization,
        ...(augment ? { augment } : {}),
        reader: session.reader,
        meta: { training, state: { round: 0, source: true, identities: data.source.pids } },
        tag: 'source',
        signal,
        progress,
      });
      try {
        await saveCheckpoint(dir, { model, normalization, epoch: st.epochs, training, state: { round: 0, source: true, identities: data.source.pids } });
      } finally {
        disposeModel(model);
      }
      await keepEpochLog(workDir, session.roundDir(0));
      await rm(workDir, { recursive: true, force: true });
      const last = records.at(-1);
      return finish({ images: data.source.samples.length, identities: data.source.pids.length, epochs: st.epochs, ...(last ? { loss: last.loss, accuracy: last.accuracy, imagesPerSecond: last.imagesPerSecond } : {}) });
    },
  };
}

/** Evaluates the checkpoint of `round` on the target test split (a no-op summary when there is none). */
export async function evaluateRound(session: PulSession, round: number, ctx: { signal: AbortSignal; progress: ProgressSink }): Promise<Record<string, unknown>> {
  const data = await session.data();
  if (data.query.length === 0 || data.gallery.length === 0) return { skipped: 'the target has no query/gallery split' };
  const { model, checkpoint } = await loadCheckpoint(session.checkpointDir(round));
  try {
    const metrics = await evaluateModel(model, data.query, data.gallery, {
      normalization: checkpoint.manifest.normalization,
      reader: session.reader,
      nmi: session.config.evaluation.nmi,
      seed: deriveSeed(session.config.seed, round, 'test-kmeans'),
      signal: ctx.signal,
      progress: ctx.progress,
    });
    ctx.progress.log(`  ${round === 0 ? 'baseline' : `round ${round}`}: mAP ${metrics.mAP.toFixed(4)}, rank-1 ${metrics.rank1.toFixed(4)}${metrics.nmi === undefined ? '' : `, NMI ${metrics.nmi.toFixed(4)}`}`);
    return { ...metrics };
  } finally {
    disposeModel(model);
  }
}

export function baselineStage(session: PulSession): Stage {
  return {
    name: 'baseline',
    async run(ctx) {
      return { summary: await evaluateRound(session, 0, ctx) };
    },
  };
}
