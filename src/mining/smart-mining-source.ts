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
 * share of rows with a non-zero loss term the trainer reported since the last refresh (feedback's perAnchor;
 * every row of a mined batch is a valid anchor, so this is the triplet loss's activeShare; the table's
 * share while none came).
 * Measured on Fashion-MNIST (600 images, batch-hard loss on the mined batches) the trainer's share stays
 * at 0.95–1.0 whatever is mined — batch-hard takes the hardest pair of the whole batch — so fed with it
 * the controller only walks to its easy bounds (k 16 → 4, then 430 of 600 negatives random). The refresh at each
 * epoch start makes an epoch depend only on the model at its start and the controller's state, which
 * state() returns for the epoch checkpoint (float64 values kept exact in float32 words): restore() with
 * it repeats the uninterrupted run.
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
import type { BatchSource, TrainBatch } from '../training/batch-source.js';
import { defaultControllerOptions, updateController, validateController, type ControllerOptions, type ControllerState } from './controller.js';
import { mineTriplets, type MiningStats, type MiningTable } from './mine-triplets.js';
import { findNeighbours } from './find-neighbours.js';
import type { NeighbourOptions } from './neighbours.js';

/** Images per mined group: anchor, positive, negative, the negative's positive. */
export const GROUP_SIZE = 4;

/** What the adaptive controller reads: the mined table's active share or the trainer's (feedback). */
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

/** The controller's state between refreshes: parameters and the trainer's shares summed since the last refresh. */
export interface SmartMiningState {
  readonly version: 1;
  readonly controller: ControllerState;
  readonly shareSum: number;
  readonly shareCount: number;
}

/** A BatchSource that mines its batches; feedback() feeds the controller, state()/restore() carry it over a resume. */
export interface SmartMiningSource extends BatchSource {
  feedback(batch: TrainBatch, perAnchor: Float32Array): void;
  state(): Float32Array;
  restore(saved: Float32Array): void;
  /** The controller's parameters and pending input now. */
  readonly controllerState: SmartMiningState;
  /** The refreshes so far (this process). */
  readonly refreshes: readonly RefreshRecord[];
}

/** A float64 as four 16-bit words, each exact in a float32 (the checkpoint stores float32 tensors). */
function packFloat64(value: number, out: Float32Array, at: number): void {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  for (let w = 0; w < 4; w++) out[at + w] = view.getUint16(w * 2);
}

function unpackFloat64(words: Float32Array, at: number): number {
  const view = new DataView(new ArrayBuffer(8));
  for (let w = 0; w < 4; w++) view.setUint16(w * 2, words[at + w]!);
  return view.getFloat64(0);
}

/** Layout of state(): version, k, interval, count, then margin and share sum as packed float64s. */
const STATE_WORDS = 12;

function encodeState(s: SmartMiningState): Float32Array {
  const out = new Float32Array(STATE_WORDS);
  out[0] = s.version;
  out[1] = s.controller.neighbours;
  out[2] = s.controller.interval;
  out[3] = s.shareCount;
  packFloat64(s.controller.margin, out, 4);
  packFloat64(s.shareSum, out, 8);
  return out;
}

function decodeState(words: Float32Array): SmartMiningState {
  if (words.length !== STATE_WORDS || words[0] !== 1) {
    throw new PulError('checkpoint.mismatch', `the checkpoint's sampler state (${words.length} values, version ${words[0]}) is not a smart-mining state (${STATE_WORDS} values, version 1)`);
  }
  return { version: 1, controller: { neighbours: words[1]!, interval: words[2]!, margin: unpackFloat64(words, 4) }, shareCount: words[3]!, shareSum: unpackFloat64(words, 8) };
}

/**
 * Checks smart mining's batch size (a multiple of 4, named `option`) and, given the labels, that they
 * fill a batch and have 2 classes of ≥ 2 samples; returns the steps per epoch (⌊n / batch⌋).
 */
export function smartMiningSteps(batchSize: number, labels: Int32Array | null, option = 'training.batchSize'): number {
  if (!(Number.isInteger(batchSize) && batchSize >= GROUP_SIZE && batchSize % GROUP_SIZE === 0)) {
    throw new PulError('option.outOfRange', `smart mining needs a batch size that is a multiple of ${GROUP_SIZE} (anchor, positive, negative, negative's positive); got ${batchSize}`, { option });
  }
  if (labels === null) return 0;
  const steps = Math.floor(labels.length / batchSize);
  if (steps === 0) throw new PulError('dataset.empty', `${labels.length} training samples are fewer than one batch of ${batchSize}`, { option });
  const counts = new Map<number, number>();
  for (const y of labels) counts.set(y, (counts.get(y) ?? 0) + 1);
  const usable = [...counts.values()].filter((c) => c >= 2).length;
  if (usable < 2) {
    throw new PulError('dataset.tooFewImages', `smart mining needs 2 classes with 2 images or more (an anchor needs a positive and a negative); the training set has ${usable} of ${counts.size}`, { option: 'sampler' });
  }
  return steps;
}

/**
 * Smart-mined batches of `samples` (class `labels[i]` for sample i) for training `model`.
 *
 * @example
 * ```ts
 * const source = smartMiningBatchSource(model, samples, labels, { ...model.spec.input, batchSize: 64, seed: 0 });
 * await trainer.fit(source); // the trainer passes each step's per-row loss terms to source.feedback
 * ```
 */
export function smartMiningBatchSource(model: ReidModel, samples: readonly Sample[], labels: Int32Array, opts: SmartMiningOptions): SmartMiningSource {
  if (labels.length !== samples.length) throw new PulError('option.invalid', `${labels.length} labels for ${samples.length} samples`, { option: 'labels' });
  const batchSize = opts.batchSize;
  const stepsPerEpoch = smartMiningSteps(batchSize, labels);
  const groupsPerBatch = batchSize / GROUP_SIZE;
  const adaptive = opts.controller !== false;
  const copts: ControllerOptions = { ...defaultControllerOptions(stepsPerEpoch), ...(opts.controller === false ? {} : opts.controller) };
  let state: SmartMiningState = {
    version: 1,
    controller: {
      neighbours: opts.neighbours ?? Math.min(32, copts.maxNeighbours),
      margin: opts.margin ?? 0.3,
      interval: opts.interval ?? copts.maxInterval,
    },
    shareSum: 0,
    shareCount: 0,
  };
  const check = (c: ControllerState): void => {
    if (adaptive) validateController(copts, c);
    else if (!(Number.isInteger(c.interval) && c.interval >= 1)) {
      throw new PulError('option.outOfRange', `refresh interval ${c.interval} must be a positive integer`, { option: 'mining.interval' });
    }
  };
  check(state.controller);
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
    get controllerState(): SmartMiningState {
      return state;
    },
    feedback(_batch: TrainBatch, perAnchor: Float32Array): void {
      if (perAnchor.length === 0) return;
      let active = 0;
      for (const v of perAnchor) if (v > 0) active++;
      state = { ...state, shareSum: state.shareSum + active / perAnchor.length, shareCount: state.shareCount + 1 };
    },
    state(): Float32Array {
      return encodeState(state);
    },
    restore(saved: Float32Array): void {
      const restored = decodeState(saved);
      try {
        check(restored.controller);
      } catch (err) {
        throw new PulError('checkpoint.mismatch', `the checkpoint's smart-mining state does not fit these mining options: ${(err as Error).message}`, {}, { cause: err });
      }
      state = restored;
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
