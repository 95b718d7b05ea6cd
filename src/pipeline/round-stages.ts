/**
 * One PUL round (Fan et al. 2018, Alg. 1), each stage reading its inputs from and writing its outputs
 * to `<run>/round-NN/`: extract (target embeddings with the previous round's model) → cluster
 * (k-means) → select (reliable samples at λ; may stop the run when the selection is stable) → train
 * (fine-tune on the pseudo-labels) → evaluate (target test split).
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { exists, writeJsonAtomic } from '../core/atomic-fs.js';
import { Rng, deriveSeed } from '../core/random.js';
import type { Sample } from '../datasets/sample.js';
import { extractFeatureFolder } from '../features/extract-folder.js';
import { refreshBatchNorm } from '../features/refresh-batch-norm.js';
import { featureMatrix, type FeatureMatrix } from '../features/feature-matrix.js';
import { readFeatureFolder, writeFeatureFolder } from '../features/features-npy.js';
import { kmeans } from '../clustering/kmeans.js';
import { readClusterFiles, writeClusterFiles } from '../clustering/cluster-files.js';
import { selectReliable } from '../selection/select-reliable.js';
import { lambdaAt } from '../selection/lambda-schedule.js';
import { describeChange, selectionChange, shouldStop } from '../selection/stop-rule.js';
import { selectionPrecision } from '../selection/selection-precision.js';
import { readSelectionFile, writeSelectionFile } from '../selection/selection-file.js';
import { normalizedMutualInformation } from '../evaluation/cluster-metrics.js';
import { disposeModel, replaceClassifier } from '../model/build-model.js';
import { CheckpointManifestSchema, META_JSON } from '../checkpoints/checkpoint.js';
import { writeLatest } from '../checkpoints/latest.js';
import { loadCheckpoint, readCheckpoint } from '../checkpoints/load-checkpoint.js';
import { saveCheckpoint, type SaveCheckpointInput } from '../checkpoints/save-checkpoint.js';
import type { Stage } from './run-stages.js';
import type { PulSession } from './pul-session.js';
import { faultPoint } from './fault.js';
import { keepEpochLog, trainResumable } from './resumable-training.js';
import { AUGMENTS } from '../datasets/augment.js';
import { evaluateRound } from './setup-stages.js';
import { createSampler } from '../datasets/samplers.js';
import { formatLossSpec, lossBatchStructure, lossNeeds } from '../training/objective.js';
import { retrainingLoss, retrainingSampler } from './pul-session.js';

/** Folders of a round: the extracted target features and the clustering. */
export const FEATURES = 'features';
const LABELED_FEATURES = 'labeled-features';
export const CLUSTERS = 'clusters';

/** The true identities of the target's samples, when every one has one (to measure, never to train). */
export const pidsOf = (samples: readonly Sample[]): Int32Array | null => (samples.every((s) => s.pid !== null) ? Int32Array.from(samples, (s) => s.pid as number) : null);

export function extractStage(session: PulSession): Stage {
  return {
    name: 'extract',
    async run({ round, signal, progress }) {
      const data = await session.data();
      // features come from the previous round's model (round 1: the source model), as in the authors' code
      const { model, checkpoint } = await loadCheckpoint(session.checkpointDir(round - 1));
      try {
        const opts = { normalize: checkpoint.manifest.normalization, reader: session.reader };
        const config = session.config;
        if (config.method === 'cluster-contrast' && config.clusterContrast.refreshBatchNorm) {
          // the same statistics for every image of the extraction, estimated on the target itself
          const layers = await refreshBatchNorm(model, data.target, { ...opts, signal });
          progress.log(`  batch-norm statistics of ${layers} layer(s) re-estimated on ${data.target.length} target images`);
        }
        const folder = await extractFeatureFolder(model, data.target, opts, { signal, progress });
        await writeFeatureFolder(path.join(session.roundDir(round), FEATURES), folder);
        if (data.labeled.samples.length > 0 && lossNeeds(retrainingLoss(session.config), 'centroids')) {
          await writeFeatureFolder(path.join(session.roundDir(round), LABELED_FEATURES), await extractFeatureFolder(model, data.labeled.samples, opts, { signal, progress }));
        }
        return { summary: { images: folder.features.rows, dim: folder.features.dim } };
      } finally {
        disposeModel(model);
      }
    },
  };
}

export function clusterStage(session: PulSession): Stage {
  return {
    name: 'cluster',
    async run({ round, progress }) {
      const c = session.config.clustering;
      const dir = session.roundDir(round);
      const { features, index } = await readFeatureFolder(path.join(dir, FEATURES));
      const { k } = await session.unlabelledK();
      progress.log(`  k-means: ${features.rows} × ${features.dim}, K=${k}, ${c.restarts} run(s)`);
      const clustering = kmeans(features, { k, init: c.init, maxIterations: c.maxIterations, restarts: c.restarts }, new Rng(deriveSeed(session.config.seed, round, 'kmeans')));
      faultPoint(`cluster:round-${round}`);
      await writeClusterFiles(path.join(dir, CLUSTERS), clustering, index.map((r) => r.path));
      const truth = pidsOf(await session.data().then((d) => d.target));
      return {
        summary: {
          k,
          inertia: clustering.inertia,
          iterations: clustering.iterations,
          ...(truth === null ? {} : { nmi: normalizedMutualInformation(truth, clustering.assignment) }),
        },
      };
    },
  };
}

export function selectStage(session: PulSession): Stage {
  return {
    name: 'select',
    async run({ round, progress }) {
      const config = session.config;
      const dir = session.roundDir(round);
      const { features, index } = await readFeatureFolder(path.join(dir, FEATURES));
      const clusters = await readClusterFiles(path.join(dir, CLUSTERS));
      const lambda = lambdaAt(config.selection.lambda, round - 1);
      const selection = selectReliable(features, clusters, { anchor: config.selection.anchor, scope: config.selection.scope, lambda, minSelected: config.selection.minSelected }, path.join(dir, FEATURES));
      await writeSelectionFile(dir, selection, index.map((r) => r.path));
      const truth = pidsOf((await session.data()).target);
      const previous = round > 1 ? await readSelectionFile(session.roundDir(round - 1)) : null;
      const change = previous === null ? null : selectionChange(previous, selection);
      const summary = {
        lambda,
        selected: selection.indices.length,
        of: features.rows,
        emptyClusters: selection.emptyClusters.length,
        ...(truth === null ? {} : { precision: selectionPrecision(selection, truth) }),
        ...(change === null ? {} : { change: change.change, entered: change.entered, left: change.left, kept: change.kept, ari: change.ari }),
      };
      progress.log(`  selected ${selection.indices.length} of ${features.rows} at λ=${lambda}${change === null ? '' : `, changed by ${describeChange(change)}`}${selection.emptyClusters.length > 0 ? `, ${selection.emptyClusters.length} cluster(s) without a reliable sample` : ''}`);
      // round − 1 rounds are trained; maxRounds is the round loop's (run-stages), this round still trains
      if (change !== null && shouldStop(config.stop, round - 1, change).reason === 'stable') {
        return { summary, stop: `the pseudo-labelled selection changed by ${describeChange(change)} < ${(config.stop.minChange * 100).toFixed(2)} % (stop.minChange)` };
      }
      return { summary };
    },
  };
}

/** Class means of labelled features (semi mode's cluster-loss centres for the labelled identities). */
function classMeans(features: FeatureMatrix, classes: Int32Array, count: number): Float32Array {
  const d = features.dim;
  const sums = new Float64Array(count * d);
  const n = new Float64Array(count);
  for (let i = 0; i < features.rows; i++) {
    const c = classes[i]!;
    n[c] = n[c]! + 1;
    for (let t = 0; t < d; t++) sums[c * d + t] = sums[c * d + t]! + features.data[i * d + t]!;
  }
  return Float32Array.from(sums, (v, j) => v / Math.max(1, n[Math.floor(j / d)]!));
}

export function trainStage(session: PulSession): Stage {
  return {
    name: 'train',
    async run({ round, signal, progress }) {
      const config = session.config;
      const t = config.training;
      const dir = session.roundDir(round);
      const checkpointDir = session.checkpointDir(round);
      const data = await session.data();
      const { k, offset } = await session.unlabelledK();
      const selection = await readSelectionFile(dir);
      // labelled identities keep classes 0..L−1; pseudo-labels follow them (the authors' semi-supervised code)
      const samples: Sample[] = [...data.labeled.samples];
      const labels = new Int32Array(data.labeled.samples.length + selection.indices.length);
      labels.set(data.labeled.classes);
      selection.indices.forEach((row, i) => {
        samples.push(data.target[row]!);
        labels[offset + i] = offset + selection.labels[i]!;
      });
      const classes = offset + k;
      const loss = retrainingLoss(config);
      let centroids: FeatureMatrix | null = null;
      if (lossNeeds(loss, 'centroids')) {
        const clusters = await readClusterFiles(path.join(dir, CLUSTERS));
        const dim = clusters.centroids.dim;
        const all = featureMatrix(classes, dim);
        if (offset > 0) {
          const labelled = await readFeatureFolder(path.join(dir, LABELED_FEATURES));
          all.data.set(classMeans(labelled.features, data.labeled.classes, offset));
        }
        all.data.set(clusters.centroids.data, offset * dim);
        centroids = all;
      }
      const lambda = lambdaAt(config.selection.lambda, round - 1);
      const state = { round, lambda, k: classes, selected: selection.indices.length, labeled: data.labeled.samples.length, run: config.name };
      if (await exists(path.join(checkpointDir, META_JSON))) {
        // saved before a crash, after its last epoch: nothing left to train
        await writeLatest(session.runDir, session.checkpointName(round));
        return { summary: { images: samples.length, classes, reused: checkpointDir } };
      }
      const from = t.retrainFrom === 'source' ? 0 : round - 1;
      const sampler = retrainingSampler(config, loss);
      const training = {
        epochs: t.epochsPerRound, batchSize: t.batchSize, optimizer: t.optimizer, augment: t.augment, clusterLossWeight: t.clusterLossWeight, loss: formatLossSpec(loss), sampler,
        ...(sampler === 'epoch' || sampler === 'smart' ? {} : { pk: t.pk }), ...(t.margin === undefined ? {} : { margin: t.margin }), retrainFrom: t.retrainFrom, startedFrom: session.checkpointName(from),
      };
      const seed = deriveSeed(config.seed, round, 'train');
      progress.log(`  training on ${samples.length} images (${classes} classes) from ${from === 0 ? 'the source model' : `round ${from}`}, ${t.epochsPerRound} epochs`);
      const augment = AUGMENTS[t.augment];
      const { model, records } = await trainResumable({
        workDir: path.join(dir, 'training'),
        initialModel: async () => replaceClassifier((await loadCheckpoint(session.checkpointDir(from))).model, classes, new Rng(deriveSeed(config.seed, round, 'classifier'))),
        samples,
        labels,
        epochs: t.epochsPerRound,
        batchSize: t.batchSize,
        optimizer: t.optimizer,
        seed,
        normalization: (await readCheckpoint(session.checkpointDir(from))).manifest.normalization,
        ...(augment ? { augment } : {}),
        reader: session.reader,
        loss,
        objective: { centroids, ...(t.margin === undefined ? {} : { margin: t.margin }) },
        sampler: sampler === 'smart' ? 'smart' : createSampler(sampler, labels, { structure: lossBatchStructure(loss), batchSize: t.batchSize, p: t.pk.p, k: t.pk.k, seed, option: 'training.pk' }),
        meta: { training, state },
        tag: `round-${round}`,
        signal,
        progress,
      });
      const normalization = (await readCheckpoint(session.checkpointDir(from))).manifest.normalization;
      await commitRoundModel(session, round, dir, { model, normalization, epoch: t.epochsPerRound, training, state });
      const last = records.at(-1);
      const figures = last ? { loss: last.loss, ...(last.accuracy === null ? {} : { accuracy: last.accuracy }), ...(last.activeShare === null ? {} : { activeShare: last.activeShare }), imagesPerSecond: last.imagesPerSecond } : {};
      return { summary: { images: samples.length, classes, lossSpec: formatLossSpec(loss), ...figures } };
    },
  };
}

export function evaluateStage(session: PulSession): Stage {
  return {
    name: 'evaluate',
    async run(ctx) {
      const summary = await evaluateRound(session, ctx.round, ctx);
      const dir = session.roundDir(ctx.round);
      await writeJsonAtomic(path.join(dir, 'metrics.json'), summary);
      // the round's checkpoint carries its figures too (pul inspect shows them)
      const checkpoint = await readCheckpoint(session.checkpointDir(ctx.round));
      const state = { ...(checkpoint.manifest.state as Record<string, unknown> | null), metrics: summary };
      await writeJsonAtomic(path.join(checkpoint.dir, META_JSON), CheckpointManifestSchema.parse({ ...checkpoint.manifest, state }));
      return { summary };
    },
  };
}

/**
 * Ends a round's training: saves (and frees) its model as the round's checkpoint, points latest.json at
 * it, keeps the per-epoch log (train-epochs.jsonl, read by pul report) and drops the working folder.
 */
export async function commitRoundModel(session: PulSession, round: number, dir: string, input: SaveCheckpointInput): Promise<void> {
  try {
    await saveCheckpoint(session.checkpointDir(round), input);
  } finally {
    disposeModel(input.model);
  }
  await writeLatest(session.runDir, session.checkpointName(round));
  await keepEpochLog(path.join(dir, 'training'), dir);
  await rm(path.join(dir, 'training'), { recursive: true, force: true });
}
