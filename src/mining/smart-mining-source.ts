/**
 * Smart mining as a BatchSource (Harwood et al., ICCV 2017). At the start of every epoch and then every
 * `interval` steps it embeds the whole training set with the model being trained (inference mode,
 * batched, tensors disposed), finds each sample's neighbours (exact or HNSW, see neighbours.ts), and
 * mines each anchor's nearest positive and the nearest negative beyond it (mine-triplets.ts). A batch of
 * B images holds B/4 groups (anchor, its positive, its negative, the negative's positive) with their
 * labels, so batch-hard, batch-all, N-pair and the global loss all see two images of every identity.
 * An epoch has ⌊n/B⌋ steps (as many images as the training set) over B/4 anchors each, drawn without
 * replacement from a seeded shuffle of the anchors.
 *
 * The adaptive controller (controller.ts) moves neighbourhood size, margin and refresh interval at every
 * refresh. Its input (`signal`) is by default the share of the fresh table's mined triplets with non-zero
 * loss, d(a,p) − d(a,n) + m > 0, on the embeddings just computed: the share of informative triplets
 * among those about to be trained on, whatever the batch loss. `signal: 'trainer'` uses instead the mean
 * active share the trainer reported since the last refresh (observe; the table's share while none came).
 * Measured on Fashion-MNIST (600 images, batch-hard loss on the mined batches) the trainer's share stays
 * at 0.95–1.0 whatever is mined — batch-hard takes the hardest pair of the whole batch — so fed with it
 * the controller only walks to its easy bounds (k 16 → 4, then 430 of 600 negatives random). The refresh at each
 * epoch start makes an epoch depend only on the model at its start and the controller's state, which
 * checkpointState() returns for the epoch checkpoint: resuming with it repeats the uninterrupted run.
 */
import { silentProgress, type ProgressSink } from '../core/progress.js';
import { PulError } from '../core/errors.js';
import { deriveSeed, Rng } from '../core/random.js';
import type { AugmentOptions } from '../datasets/augment.js';
import { iterateBatches } from '../datasets/batches.js';
import type { ImageReader, ImageSpec } from '../datasets/images.js';
import type { Sample } from '../datasets/sample.js';
import { extractFeatures } from '../features/extract-features.js';
import type { ReidModel } from '../model/build-model.js';
import type { BatchSource, StepFeedback, TrainBatch } from '../training/batch-source.js';
import { defaultControllerOptions, updateController, validateController, type ControllerOptions, type ControllerState } from './controller.js';
import { mineTriplets, type MiningStats, type MiningTable } from './mine-triplets.js';
import { findNeighbours } from './find-neighbours.js';
import type { NeighbourOptions } from './neighbours.js';

/** Images per mined group: anchor, positive, negative, the negative's positive. */
export const GROUP_SIZE = 4;

/** What the adaptive controller reads: the mined table's active share or the trainer's (observe). */
export type SmartMiningSignal = 'table' | 'trainer';

/** Options of smartMiningBatchSource. */
export interface SmartMiningOptions extends ImageSpec {
  /** Images per batch, a multiple of 4 (groups of anchor, positive, negative, negative's positive). */
  readonly batchSize: number;
  readonly seed: number;
  readonly augment?: AugmentOptions;
  readonly reader?: ImageReader;
  /** Starting neighbourhood size; default 32. */
  readonly neighbours?: number;
  /** Starting margin (the loss's); default 0.3. */
  readonly margin?: number;
  /** Starting refresh interval in steps; default one epoch. */
  readonly interval?: number;
  /** Controller bounds and target (defaults: defaultControllerOptions); `false` keeps the starting parameters. */
  readonly controller?: Partial<ControllerOptions> | false;
  /** The controller's input: the fresh table's active share (default) or the trainer's reported one. */
  readonly signal?: SmartMiningSignal;
  readonly index?: NeighbourOptions;
  /** Images per forward pass of the embedding pass; default 256. */
  readonly embedBatchSize?: number;
  /** The state checkpointState() returned, to resume after that epoch. */
  readonly resume?: unknown;
  /** Progress of the embedding passes and one log line per refresh. */
  readonly progress?: ProgressSink;
}

/** One refresh: when, with which parameters, what the table looked like, how long it took. */
export interface RefreshRecord {
  readonly epoch: number;
  readonly step: number;
  /** The controller's input at this refresh (null: none yet) and where it came from. */
  readonly share: number | null;
  readonly shareFrom: 'trainer' | 'table' | null;
  readonly neighbours: number;
  readonly margin: number;
  readonly interval: number;
  readonly method: 'exact' | 'hnsw';
  readonly stats: MiningStats;
  readonly seconds: number;
}

/** The controller's state between refreshes: parameters and the shares observed since the last refresh. */
export interface SmartMiningState {
  readonly version: 1;
  readonly controller: ControllerState;
  readonly shareSum: number;
  readonly shareCount: number;
}

/** A BatchSource that mines its batches; observe() feeds the controller. */
export interface SmartMiningSource extends BatchSource {
  observe(feedback: StepFeedback): void;
  checkpointState(): SmartMiningState;
  /** The refreshes so far (this process). */
  readonly refreshes: readonly RefreshRecord[];
}

function parseState(value: unknown): SmartMiningState {
  const v = value as Partial<SmartMiningState> | null;
  const c = v?.controller;
  if (v?.version !== 1 || c === undefined || typeof c.neighbours !== 'number' || typeof c.margin !== 'number' || typeof c.interval !== 'number' || typeof v.shareSum !== 'number' || typeof v.shareCount !== 'number') {
    throw new PulError('state.invalid', `the smart-mining state saved with the checkpoint is malformed: ${JSON.stringify(value)}`);
  }
  return { version: 1, controller: { neighbours: c.neighbours, margin: c.margin, interval: c.interval }, shareSum: v.shareSum, shareCount: v.shareCount };
}

/**
 * Smart-mined batches of `samples` (class `labels[i]` for sample i) for training `model`.
 *
 * @example
 * ```ts
 * const source = smartMiningBatchSource(model, samples, labels, { ...model.spec.input, batchSize: 64, seed: 0 });
 * await trainer.fit(source); // the trainer calls source.observe after each step
 * ```
 */
export function smartMiningBatchSource(model: ReidModel, samples: readonly Sample[], labels: Int32Array, opts: SmartMiningOptions): SmartMiningSource {
  if (labels.length !== samples.length) throw new PulError('option.invalid', `${labels.length} labels for ${samples.length} samples`, { option: 'labels' });
  const batchSize = opts.batchSize;
  if (!(Number.isInteger(batchSize) && batchSize >= GROUP_SIZE && batchSize % GROUP_SIZE === 0)) {
    throw new PulError('option.outOfRange', `smart mining needs a batch size that is a multiple of ${GROUP_SIZE} (anchor, positive, negative, negative's positive); got ${batchSize}`, { option: 'training.batchSize' });
  }
  const stepsPerEpoch = Math.floor(samples.length / batchSize);
  if (stepsPerEpoch === 0) throw new PulError('dataset.empty', `${samples.length} training samples are fewer than one batch of ${batchSize}`, { option: 'training.batchSize' });
  const groupsPerBatch = batchSize / GROUP_SIZE;
  const adaptive = opts.controller !== false;
  const copts: ControllerOptions = { ...defaultControllerOptions(stepsPerEpoch), ...(opts.controller === false ? {} : opts.controller) };
  let state: SmartMiningState = opts.resume === undefined || opts.resume === null
    ? {
        version: 1,
        controller: {
          neighbours: opts.neighbours ?? Math.min(32, copts.maxNeighbours),
          margin: opts.margin ?? 0.3,
          interval: opts.interval ?? copts.maxInterval,
        },
        shareSum: 0,
        shareCount: 0,
      }
    : parseState(opts.resume);
  if (adaptive) validateController(copts, state.controller);
  else if (!(Number.isInteger(state.controller.interval) && state.controller.interval >= 1)) {
    throw new PulError('option.outOfRange', `refresh interval ${state.controller.interval} must be a positive integer`, { option: 'mining.interval' });
  }
  const signalKind = opts.signal ?? 'table';
  const progress = opts.progress ?? silentProgress;
  const refreshes: RefreshRecord[] = [];

  /** Embeds everything, lets the controller act, mines the table. */
  async function refresh(epoch: number, step: number, signal: AbortSignal | undefined): Promise<{ table: MiningTable; margin: number; interval: number }> {
    const started = performance.now();
    const embedProgress: ProgressSink = {
      update: (e) => progress.update({ ...e, task: `smart mining: embed (epoch ${epoch + 1}, step ${step})` }),
      log: (m) => progress.log(m),
    };
    const embeddings = await extractFeatures(model, samples, {
      batchSize: opts.embedBatchSize ?? 256,
      ...(opts.normalize === undefined ? {} : { normalize: opts.normalize }),
      ...(opts.reader === undefined ? {} : { reader: opts.reader }),
    }, { ...(signal === undefined ? {} : { signal }), progress: embedProgress });
    const observed = signalKind === 'trainer' && state.shareCount > 0 ? state.shareSum / state.shareCount : null;
    let controller = state.controller;
    if (adaptive && observed !== null) controller = updateController(controller, observed, copts);
    const search = findNeighbours(embeddings, Math.min(controller.neighbours, Math.max(1, samples.length - 1)), opts.index ?? {});
    const table = mineTriplets(embeddings, labels, search.neighbours, controller.margin, new Rng(deriveSeed(opts.seed, 'smart-mining', epoch, step)));
    let shareFrom: RefreshRecord['shareFrom'] = observed === null ? null : 'trainer';
    if (adaptive && observed === null) {
      controller = updateController(controller, table.stats.activeShare, copts);
      shareFrom = 'table';
    }
    state = { version: 1, controller, shareSum: 0, shareCount: 0 };
    const record: RefreshRecord = {
      epoch, step,
      share: observed ?? (shareFrom === 'table' ? table.stats.activeShare : null),
      shareFrom,
      neighbours: search.neighbours.k,
      margin: controller.margin,
      interval: controller.interval,
      method: search.method,
      stats: table.stats,
      seconds: (performance.now() - started) / 1000,
    };
    refreshes.push(record);
    progress.log(`  smart mining (epoch ${epoch + 1}, step ${step}): ${search.method} k=${record.neighbours}, margin ${controller.margin.toFixed(3)}, next refresh in ${controller.interval} steps; active ${(table.stats.activeShare * 100).toFixed(1)} % of ${table.stats.anchors} mined triplets${observed === null ? '' : `, ${(observed * 100).toFixed(1)} % in training`}; random positives ${table.stats.randomPositives}, negatives ${table.stats.randomNegatives}; ${record.seconds.toFixed(1)} s${search.note ? ` (${search.note})` : ''}`);
    return { table, margin: controller.margin, interval: controller.interval };
  }

  return {
    stepsPerEpoch,
    refreshes,
    observe(feedback: StepFeedback): void {
      if (feedback.activeShare === null || !Number.isFinite(feedback.activeShare)) return;
      state = { ...state, shareSum: state.shareSum + feedback.activeShare, shareCount: state.shareCount + 1 };
    },
    checkpointState(): SmartMiningState {
      return state;
    },
    async *batches(epoch: number, signal?: AbortSignal): AsyncIterable<TrainBatch> {
      const rng = new Rng(deriveSeed(opts.seed, 'smart-batches', epoch));
      let anchors: number[] = [];
      let step = 0;
      while (step < stepsPerEpoch) {
        const { table, margin, interval } = await refresh(epoch, step, signal);
        if (anchors.length === 0) anchors = rng.shuffle(Array.from(table.anchors));
        const steps = Math.min(interval, stepsPerEpoch - step);
        const order: number[] = [];
        for (let g = 0; g < steps * groupsPerBatch; g++) {
          // fewer anchors than groups in an epoch: a fresh shuffle, as an epoch sampler would
          if (anchors.length === 0) anchors = rng.shuffle(Array.from(table.anchors));
          const a = anchors.pop()!;
          const neg = table.negative[a]!;
          order.push(a, table.positive[a]!, neg, table.positive[neg]!);
        }
        for await (const b of iterateBatches(samples, {
          height: opts.height,
          width: opts.width,
          channels: opts.channels,
          ...(opts.normalize === undefined ? {} : { normalize: opts.normalize }),
          batchSize,
          order,
          ...(opts.augment === undefined ? {} : { augment: opts.augment }),
          rng,
          ...(opts.reader === undefined ? {} : { reader: opts.reader }),
          dropLast: true,
          ...(signal === undefined ? {} : { signal }),
        })) {
          const y = new Int32Array(b.indices.length);
          for (let i = 0; i < y.length; i++) y[i] = labels[b.indices[i]!]!;
          yield { pixels: b.pixels, shape: b.shape, labels: y, margin };
        }
        step += steps;
      }
    },
  };
}
