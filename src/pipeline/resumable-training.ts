/**
 * Training that survives a crash: after every epoch the model and the optimiser state go to
 * `<work>/epoch-NNN` (atomically) and `<work>/latest.json` points at it; a new call with the same
 * work folder continues after the last saved epoch. Batches, augmentation and dropout masks of an
 * epoch come from (seed, epoch), so the continued run equals an uninterrupted one.
 */
import { copyFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { tf } from '../backend/tf.js';
import type { ProgressSink } from '../core/progress.js';
import type { AugmentOptions } from '../datasets/augment.js';
import type { ImageReader, Normalization } from '../datasets/images.js';
import type { Sample } from '../datasets/sample.js';
import { disposeModel, type ReidModel } from '../model/build-model.js';
import type { Sampler } from '../datasets/samplers.js';
import { smartMiningBatchSource } from '../mining/smart-mining-source.js';
import { datasetBatchSource, type BatchSource } from '../training/batch-source.js';
import { Objective, isObjectiveState, type LossTerm, type ObjectiveOptions } from '../training/objective.js';
import type { OptimizerOptions } from '../training/optimizer.js';
import { Trainer, type EpochRecord } from '../training/train.js';
import { resolveLatest, writeLatest } from '../checkpoints/latest.js';
import { loadCheckpoint, loadOptimizerState, readCheckpoint, type ExpectedModel } from '../checkpoints/load-checkpoint.js';
import { saveCheckpoint } from '../checkpoints/save-checkpoint.js';
import { faultPoint } from './fault.js';

/** The per-epoch log a finished training leaves beside its checkpoint (one JSON line per epoch: loss, accuracy, seconds…), for reports. */
export const EPOCH_LOG = 'train-epochs.jsonl';

/** Copies a work folder's per-epoch log to `<dir>/train-epochs.jsonl`, before the work folder is removed. */
export async function keepEpochLog(workDir: string, dir: string): Promise<void> {
  await copyFile(path.join(workDir, 'metrics.jsonl'), path.join(dir, EPOCH_LOG)).catch((err: NodeJS.ErrnoException) => {
    // a training resumed after its last epoch ran no epoch now and may have no log
    if (err.code !== 'ENOENT') throw err;
  });
}

/** Name of the sampler's state among the checkpoint's optimiser tensors. */
const SAMPLER_STATE = 'sampler/state';

export interface ResumableTraining {
  /** Folder of the per-epoch checkpoints (created; the caller removes it when done with it). */
  readonly workDir: string;
  /** Builds the starting model when the work folder holds no epoch yet. */
  readonly initialModel: () => Promise<ReidModel>;
  /** The optimiser state to start from when the work folder holds no epoch yet (default: a fresh optimiser); the tensors are disposed here. */
  readonly initialOptimizer?: () => Promise<{ name: string; tensor: tf.Tensor }[] | null>;
  readonly samples: readonly Sample[];
  /** Class 0..K−1 of each sample. */
  readonly labels: Int32Array;
  readonly epochs: number;
  readonly batchSize: number;
  readonly optimizer: OptimizerOptions;
  readonly seed: number;
  readonly normalization: Normalization;
  readonly augment?: AugmentOptions;
  readonly reader?: ImageReader;
  /** The loss terms; default cross-entropy. */
  readonly loss?: readonly LossTerm[];
  /** Label smoothing, margin, the round's centroids (the cluster term), centre rate. */
  readonly objective?: Omit<ObjectiveOptions, 'classes' | 'embeddingDim'>;
  /** The batch order (see createSampler), or 'smart': batches mined with the model being trained (src/mining); default every image once per epoch in batches of batchSize. */
  readonly sampler?: Sampler | 'smart';
  /** Keep every epoch's checkpoint (`pul train`); by default only the newest, enough to resume. */
  readonly keepEpochs?: 'all' | 'latest';
  /** Checked against a checkpoint found in the work folder (a folder of another model is refused by name). */
  readonly expect?: ExpectedModel;
  /** Written into each epoch checkpoint's meta.json. */
  readonly meta: { readonly training: unknown; readonly state: unknown };
  /** Names this training in fault-injection points (`train:<tag>:epoch-N`) and progress. */
  readonly tag: string;
  readonly signal?: AbortSignal;
  readonly progress?: ProgressSink;
}

/**
 * The optimiser's own state (no objective or sampler state) saved with the newest epoch of a work
 * folder, or null when it holds none: what a next training may start from (see initialOptimizer).
 */
export async function trainedOptimizerState(workDir: string): Promise<{ name: string; tensor: tf.Tensor }[] | null> {
  const latest = await resolveLatest(workDir);
  const saved = latest === null ? null : await loadOptimizerState(await readCheckpoint(latest));
  if (saved === null) return null;
  const own = (name: string) => !isObjectiveState(name) && name !== SAMPLER_STATE;
  tf.dispose(saved.filter((n) => !own(n.name)).map((n) => n.tensor));
  return saved.filter((n) => own(n.name));
}

/** Trains (or continues) to `epochs`; returns the trained model (the caller disposes it) and the epochs run now. */
export async function trainResumable(t: ResumableTraining): Promise<{ model: ReidModel; records: EpochRecord[]; resumedAt: number }> {
  const latest = await resolveLatest(t.workDir);
  let model: ReidModel;
  let optimizerState: { name: string; tensor: tf.Tensor }[] | null = null;
  let resumedAt = 0;
  if (latest !== null) {
    const loaded = await loadCheckpoint(latest, t.expect);
    model = loaded.model;
    optimizerState = await loadOptimizerState(loaded.checkpoint);
    resumedAt = loaded.checkpoint.manifest.epoch;
    t.progress?.log(`  continuing ${t.tag} after epoch ${resumedAt} (${latest})`);
  } else {
    model = await t.initialModel();
    optimizerState = (await t.initialOptimizer?.()) ?? null;
  }
  let objective: Objective;
  try {
    objective = new Objective(t.loss ?? [{ name: 'ce', weight: 1 }], { ...t.objective, classes: model.spec.classes, embeddingDim: model.spec.embeddingDim });
  } catch (err) {
    disposeModel(model);
    if (optimizerState !== null) tf.dispose(optimizerState.map((n) => n.tensor));
    throw err;
  }
  const trainer = new Trainer(model, { epochs: t.epochs, optimizer: t.optimizer, seed: t.seed, objective, metricsLog: path.join(t.workDir, 'metrics.jsonl') });
  try {
    const common = {
      ...model.spec.input,
      normalize: t.normalization,
      batchSize: t.batchSize,
      seed: t.seed,
      ...(t.augment ? { augment: t.augment } : {}),
      ...(t.reader ? { reader: t.reader } : {}),
    };
    // smart mining embeds the training set with the model being trained: it is built here, beside it
    const source: BatchSource = t.sampler === 'smart'
      ? smartMiningBatchSource(model, t.samples, t.labels, { ...common, ...(t.objective?.margin === undefined ? {} : { margin: t.objective.margin }), ...(t.progress ? { progress: t.progress } : {}) })
      : datasetBatchSource(t.samples, t.labels, { ...common, ...(t.sampler ? { sampler: t.sampler } : {}) });
    if (optimizerState !== null || resumedAt > 0) {
      // the checkpoint's optimiser file also holds the objective's state (objective/…) and the sampler's (sampler/state)
      const saved = optimizerState ?? [];
      await trainer.restore({ epoch: resumedAt, optimizer: saved.filter((n) => !isObjectiveState(n.name) && n.name !== SAMPLER_STATE), objective: saved.filter((n) => isObjectiveState(n.name)) });
      const sampler = saved.find((n) => n.name === SAMPLER_STATE);
      if (sampler && source.restore) source.restore(sampler.tensor.dataSync() as Float32Array);
    }
    if (optimizerState !== null) tf.dispose(optimizerState.map((n) => n.tensor));
    let previous = latest;
    const records = await trainer.fit(source, { ...(t.signal ? { signal: t.signal } : {}), ...(t.progress ? { progress: t.progress } : {}) }, async (r) => {
      const name = `epoch-${String(r.epoch).padStart(3, '0')}`;
      const state = await trainer.state();
      const extra = [...(state.objective ?? []), ...(source.state ? [{ name: SAMPLER_STATE, tensor: tf.tensor1d(source.state()) }] : [])];
      try {
        await saveCheckpoint(path.join(t.workDir, name), { model, normalization: t.normalization, epoch: r.epoch, training: t.meta.training, state: t.meta.state, optimizer: [...state.optimizer, ...extra] });
      } finally {
        tf.dispose([...state.optimizer.map((n) => n.tensor).filter((x) => !(x instanceof tf.Variable)), ...extra.map((n) => n.tensor)]);
      }
      await writeLatest(t.workDir, name);
      // keep only the newest epoch: the older ones are no longer needed to resume
      if (t.keepEpochs !== 'all' && previous !== null && path.basename(previous) !== name) await rm(previous, { recursive: true, force: true });
      previous = path.join(t.workDir, name);
      const figures = [`loss ${r.loss.toFixed(4)}`, ...(r.accuracy === null ? [] : [`accuracy ${r.accuracy.toFixed(4)}`]), ...(r.activeShare === null ? [] : [`active ${(r.activeShare * 100).toFixed(1)} %`])];
      t.progress?.log(`  ${t.tag} epoch ${r.epoch}/${t.epochs}: ${figures.join(', ')}, ${r.imagesPerSecond.toFixed(0)} img/s`);
      faultPoint(`train:${t.tag}:epoch-${r.epoch}`);
    });
    return { model, records, resumedAt };
  } catch (err) {
    disposeModel(model);
    throw err;
  } finally {
    trainer.dispose();
    objective.dispose();
  }
}
