/**
 * Supervised training on a labelled data set (`pul train`; the PUL source model): classes from the
 * identities, the model from a preset or `layers:` choice, per-epoch checkpoints in `out` (resumable),
 * then the closed-set accuracy on the labelled non-train images.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { PulError } from '../core/errors.js';
import { claimOutputDir, type PreparedOutput } from '../core/output-dir.js';
import type { ProgressSink } from '../core/progress.js';
import { Rng } from '../core/random.js';
import { AUGMENTS, type AugmentName } from '../datasets/augment.js';
import { defaultNormalization, ImageReader, type Normalization } from '../datasets/images.js';
import { loadDataset } from '../datasets/load-dataset.js';
import { screenImages, type BadImagePolicy } from '../datasets/summary.js';
import type { DatasetFormat, Sample } from '../datasets/sample.js';
import { buildModel, disposeModel } from '../model/build-model.js';
import { hashBitsProblem } from '../model/hash-bits.js';
import { modelSpecFor, type ModelChoice } from '../model/model-choice.js';
import { closedSetAccuracy } from '../training/closed-set-accuracy.js';
import { lrScheduleOf, type LR_SCHEDULE_TYPES, type OptimizerOptions } from '../training/optimizer.js';
import type { EpochRecord } from '../training/train.js';
import { resolveLatest } from '../checkpoints/latest.js';
import { readCheckpoint } from '../checkpoints/load-checkpoint.js';
import { checkResumeSettings } from '../config/load-config.js';
import { trainResumable } from './resumable-training.js';
import { createSampler, drawsIdentities, identityGroups, type SamplerName } from '../datasets/samplers.js';
import { checkSamplerFeed, formatLossSpec, lossBatchStructure, lossNeeds, parseLossSpec } from '../training/objective.js';
import { writeSkippedImages } from './skipped-images.js';
import { smartMiningSteps } from '../mining/smart-mining-source.js';

/** Options of trainSupervised (the flags of `pul train`, by library name). */
export interface SupervisedTrainingOptions {
  /** The labelled data set (any layout of datasets/README.md). */
  readonly data: string;
  readonly format?: DatasetFormat | undefined;
  readonly classes?: readonly number[] | undefined;
  /** Manifests may name images outside their own folder. */
  readonly allowOutside?: boolean | undefined;
  /** Decode every image first: 'check' stops listing the corrupt ones, 'skip' leaves them out (listed in skipped-images.csv of `out`). */
  readonly badImages?: BadImagePolicy | undefined;
  /** Run folder: epoch-NNN checkpoints, latest.json, metrics.jsonl. */
  readonly out: string;
  /** `out` as prepareOutput accepted it: its ownership marker is written once nothing is left to refuse. */
  readonly output?: PreparedOutput;
  /** Continue the run in `out`; without it a folder that holds one is refused. */
  readonly resume?: boolean | undefined;
  /** With `resume`: continue although the data set or settings differ from the run's. */
  readonly force?: boolean | undefined;
  readonly model: ModelChoice;
  readonly epochs: number;
  readonly batchSize: number;
  /** The optimiser; `schedule` names an LR schedule type (see {@link lrScheduleOf}). */
  readonly optimizer: Omit<OptimizerOptions, 'schedule'> & { readonly schedule?: (typeof LR_SCHEDULE_TYPES)[number] };
  readonly labelSmoothing?: number;
  /** The loss spec (`ce`, `ce+triplet-hard`, `lifted`, …; see parseLossSpec); default `ce`. */
  readonly loss?: string | undefined;
  /** Margin of the margin losses; default each loss's own. */
  readonly margin?: number | undefined;
  /** Batch order; default pk when the loss has a pair/triplet term, else epoch. */
  readonly sampler?: SamplerName | undefined;
  /** P identities × K images of a P×K batch (batch size P·K); default 16×4. */
  readonly pk?: { readonly p: number; readonly k: number } | undefined;
  readonly augment?: AugmentName;
  /** Default {@link defaultNormalization} of the model's channels. */
  readonly normalization?: Normalization | undefined;
  readonly seed: number;
  readonly signal?: AbortSignal;
  readonly progress?: ProgressSink;
}

/** What trainSupervised trained and measured. */
export interface SupervisedTrainingResult {
  /** The epochs trained by this call (after the resumed ones). */
  readonly epochs: readonly EpochRecord[];
  readonly seconds: number;
  /** Labelled query/gallery images of the trained identities, and the classifier's accuracy on them (null when none). */
  readonly testImages: number;
  readonly testAccuracy: number | null;
  /** Images left out because they cannot be decoded (badImages 'skip'). */
  readonly skippedImages: number;
  /** The newest checkpoint. */
  readonly checkpoint: string | null;
}

/** Contiguous class indices 0..K−1 for the sorted distinct pids. */
function classIndex(samples: readonly Sample[]): Map<number, number> {
  const pids = [...new Set(samples.map((s) => s.pid as number))].sort((a, b) => a - b);
  return new Map(pids.map((p, i) => [p, i]));
}

/**
 * Trains (or, with `resume`, continues) a model on `data`'s labelled training images. Errors name the
 * option keys of {@link SupervisedTrainingOptions} (`model.name`, `normalization`, `resume`, …).
 * @example
 * ```ts
 * const r = await trainSupervised({ data: 'fmnist', out: 'runs/src', model: { name: 'fmnist' }, epochs: 6, batchSize: 64,
 *   optimizer: { type: 'sgd', lr: 0.01, momentum: 0.9 }, seed: 1 });
 * console.log(r.testAccuracy, r.checkpoint);
 * ```
 */
export async function trainSupervised(o: SupervisedTrainingOptions): Promise<SupervisedTrainingResult> {
  const hashProblem = o.model.hashBits === undefined ? null : hashBitsProblem(o.model.hashBits);
  if (hashProblem !== null) throw new PulError('option.outOfRange', `model.hashBits: ${hashProblem}`, { option: 'model.hashBits' });
  const loss = parseLossSpec(o.loss ?? 'ce', 'loss');
  if (lossNeeds(loss, 'centroids')) throw new PulError('option.invalid', `loss ${formatLossSpec(loss)}: cluster pulls embeddings to the k-means centroids of a PUL round; only pul run's retraining has them (training.loss)`, { option: 'loss' });
  if (lossNeeds(loss, 'memory')) throw new PulError('option.invalid', `loss ${formatLossSpec(loss)}: cluster-memory contrasts embeddings with a memory of cluster centroids; only pul run --method cluster-contrast has one`, { option: 'loss' });
  if (o.model.hashBits !== undefined && lossNeeds(loss, 'logits')) {
    // measured on Fashion-MNIST (README): ce+triplet-hard on a 64-bit head gave one sign code for every image
    o.progress?.log(`warning: loss ${formatLossSpec(loss)} trains the hash head through the classifier; its tanh units tend to saturate at fixed signs, so every image gets the same binary code — train a hash head without ce, e.g. triplet-hard+hash`);
  }
  const samplerName = o.sampler ?? (lossBatchStructure(loss) === 'pk' ? 'pk' : 'epoch');
  const pk = o.pk ?? { p: 16, k: 4 };
  checkSamplerFeed(loss, samplerName, 'sampler');
  if (samplerName === 'smart') smartMiningSteps(o.batchSize, null); // a batch of whole groups of 4, before the data set is read
  const reader = new ImageReader();
  const dataset = await loadDataset(o.data, { reader, ...(o.format ? { format: o.format } : {}), ...(o.classes ? { classes: [...o.classes] } : {}), ...(o.allowOutside ? { allowOutside: true } : {}) });
  // every image this training reads (training and test) decoded before any training
  const { kept: samples, skipped } =
    o.badImages === undefined
      ? { kept: dataset.samples, skipped: [] }
      : await screenImages(dataset.samples, o.badImages, { reader, ...(o.progress ? { progress: o.progress } : {}), hint: 'leave them out with --skip-bad, or fix or remove the files' });
  const train = samples.filter((s) => s.split === 'train' && s.pid !== null);
  if (train.length === 0) throw new PulError('dataset.empty', `${o.data}: no labelled training images`, { file: o.data });
  const classes = classIndex(train);
  const labels = Int32Array.from(train, (s) => classes.get(s.pid as number)!);
  const samplerOption = o.sampler === undefined ? 'loss' : 'sampler';
  if (drawsIdentities(samplerName, lossBatchStructure(loss))) {
    // every identity of a labelled set should give each anchor a positive; one with a single image cannot
    const { singletons, identities } = identityGroups(labels);
    if (singletons.length > 0) {
      const pids = [...classes.keys()];
      throw new PulError(
        'dataset.tooFewImages',
        `${singletons.length} of the ${identities} identities of ${o.data} have a single training image (${singletons.slice(0, 5).map((c) => `pid ${pids[c]}`).join(', ')}${singletons.length > 5 ? ', …' : ''}); the loss ${formatLossSpec(loss)} with sampler ${samplerName} needs P×K batches with 2 images per identity or more: remove them, or choose another loss or sampler`,
        { file: o.data, option: samplerOption },
      );
    }
  }
  const sampler = samplerName === 'smart' ? 'smart' : createSampler(samplerName, labels, { structure: lossBatchStructure(loss), batchSize: o.batchSize, p: pk.p, k: pk.k, seed: o.seed, option: 'pk' });
  const batches = sampler === 'smart' ? { stepsPerEpoch: smartMiningSteps(o.batchSize, labels), batchSize: o.batchSize } : sampler;
  if (o.model.dropout !== undefined && !(o.model.dropout >= 0 && o.model.dropout < 1)) {
    throw new PulError('option.outOfRange', `model.dropout ${o.model.dropout} is not in [0, 1)`, { option: 'model.dropout' });
  }
  const spec = modelSpecFor(o.model, classes.size);
  const normalization = o.normalization ?? defaultNormalization(spec.input.channels);
  if (typeof normalization === 'object' && normalization.mean.length !== spec.input.channels) {
    throw new PulError('option.invalid', `model.normalization gives ${normalization.mean.length} channel(s); model ${o.model.name} takes ${spec.input.channels}`, { option: 'model.normalization' });
  }
  const latest = await resolveLatest(o.out);
  if (latest !== null && !o.resume) throw new PulError('state.invalid', `${o.out} holds a training run (${latest}); resume it, or choose another output folder`, { file: o.out, option: 'resume' });
  if (latest === null && o.resume) throw new PulError('checkpoint.notFound', `${o.out} holds no latest.json to resume from`, { file: o.out, option: 'resume' });
  const { schedule, ...rest } = o.optimizer;
  const optimizer: OptimizerOptions = { ...rest, ...(schedule === undefined ? {} : { schedule: lrScheduleOf(schedule) }) };
  const augmentName = o.augment ?? 'none';
  const augment = AUGMENTS[augmentName];
  // what resuming compares (all but epochs): the data set (path, filter, size) and every setting
  const training = {
    ...optimizer, epochs: o.epochs, batch: o.batchSize, seed: o.seed, labelSmoothing: o.labelSmoothing ?? 0, augment: augmentName, dropout: spec.dropout,
    loss: formatLossSpec(loss), sampler: samplerName, ...(drawsIdentities(samplerName, lossBatchStructure(loss)) ? { pk } : {}), ...(o.margin === undefined ? {} : { margin: o.margin }),
    data: path.resolve(o.data), format: o.format ?? null, classes: o.classes ?? null, dataset: { images: train.length, identities: classes.size },
    model: o.model.name, input: spec.input, embeddingDim: spec.embeddingDim, ...(spec.hashBits === undefined ? {} : { hashBits: spec.hashBits }), normalization, ...(skipped.length > 0 ? { skippedImages: skipped.length } : {}),
  };
  if (latest !== null) {
    const saved = (await readCheckpoint(latest)).manifest.training;
    const changed = checkResumeSettings(saved, training, { dir: o.out, what: 'training configuration', force: o.force ?? false, ignore: ['epochs'] });
    if (changed.length > 0) o.progress?.log(`forced: continuing ${o.out} with changed settings (${changed.join(', ')})`);
  }
  if (o.output) await claimOutputDir(o.output);
  if (skipped.length > 0) o.progress?.log(`skipping ${skipped.length} image(s) that cannot be decoded (first: ${skipped[0]!.path}), listed in ${await writeSkippedImages(o.out, skipped)}`);
  const meta = { training, state: { classes: [...classes.keys()] } };
  o.progress?.log(`train: ${train.length} images, ${classes.size} classes, model ${o.model.name} (${spec.input.height}×${spec.input.width}×${spec.input.channels}), ${o.epochs} epochs of ${batches.stepsPerEpoch} batches of ${batches.batchSize}, loss ${formatLossSpec(loss)}, sampler ${samplerName}`);
  const started = performance.now();
  const { model, records } = await trainResumable({
    workDir: o.out,
    initialModel: () => buildModel(spec, new Rng(o.seed)),
    expect: { architecture: spec.architecture, input: spec.input },
    samples: train,
    labels,
    epochs: o.epochs,
    batchSize: o.batchSize,
    optimizer,
    seed: o.seed,
    normalization,
    loss,
    objective: { ...(o.labelSmoothing === undefined ? {} : { labelSmoothing: o.labelSmoothing }), ...(o.margin === undefined ? {} : { margin: o.margin }), option: 'loss' },
    sampler,
    ...(augment ? { augment } : {}),
    reader,
    meta,
    keepEpochs: 'all',
    tag: 'train',
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.progress ? { progress: o.progress } : {}),
  });
  try {
    const seconds = (performance.now() - started) / 1000;
    const test = samples.filter((s) => s.split !== 'train' && s.pid !== null && classes.has(s.pid));
    const testAccuracy = test.length > 0 ? await closedSetAccuracy(model, test, Int32Array.from(test, (s) => classes.get(s.pid as number)!), normalization, reader) : null;
    return { epochs: records, seconds, testImages: test.length, testAccuracy, skippedImages: skipped.length, checkpoint: await resolveLatest(o.out) };
  } finally {
    disposeModel(model);
  }
}
