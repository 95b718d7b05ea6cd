/**
 * The training loop: forward in training mode, the objective's loss (a weighted sum of registered
 * losses, see objective.ts), one optimiser step per batch, learning rate per step from the schedule.
 * Reports progress, appends one JSON line per epoch to a metrics log, stops on a non-finite loss or an
 * abort, and disposes every tensor it makes (the numTensors count after an epoch equals the count before it).
 */
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { tf } from '../backend/tf.js';
import { withLazyConvInputGradient } from '../backend/fused-conv-gradient.js';
import { PulError } from '../core/errors.js';
import { deriveSeed } from '../core/random.js';
import { silentProgress, type ProgressSink } from '../core/progress.js';
import type { ReidModel } from '../model/build-model.js';
import { forwardTraining } from '../model/training-forward.js';
import type { BatchSource, TrainBatch } from './batch-source.js';
import { Objective, parseLossSpec, type NamedState } from './objective.js';
import { applyGradientsWithDecay, createOptimizer, disposeOptimizer, learningRateAt, setLearningRate, type OptimizerOptions } from './optimizer.js';

/** What Trainer trains with: epochs, optimiser, objective, dropout seed, metrics log. */
export interface TrainOptions {
  readonly epochs: number;
  readonly optimizer: OptimizerOptions;
  /** What each step minimises (the caller keeps and disposes it); default cross-entropy (`ce`). */
  readonly objective?: Objective;
  /** Append one JSON object per epoch to this file (JSON lines). */
  readonly metricsLog?: string;
  /** Seed of the dropout masks (mask of step s of epoch e from (seed, e, s): a resumed run repeats them). Default 0. */
  readonly seed?: number;
}

/** Cancellation and progress for Trainer.fit. */
export interface TrainContext {
  readonly signal?: AbortSignal;
  readonly progress?: ProgressSink;
}

/** One finished epoch: mean loss, accuracy, active share, learning rate, seconds. */
export interface EpochRecord {
  readonly epoch: number;
  readonly steps: number;
  readonly loss: number;
  /** Classifier accuracy on the training batches; null when the loss does not train the classifier. */
  readonly accuracy: number | null;
  /** Mean over the batches of the share of mined pairs/triplets with a non-zero loss; null when the loss mines none. */
  readonly activeShare: number | null;
  /** That share per batch (empty when none). */
  readonly activeShares: readonly number[];
  readonly lr: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
  /** Where the epoch's seconds went: waiting for batches (decoding, augmenting), optimiser steps, the first step alone (kernel warm-up). */
  readonly breakdown?: { readonly dataSeconds: number; readonly stepSeconds: number; readonly firstStepSeconds: number };
}

/** A tensor with a name, as tfjs's optimizer.getWeights returns them. */
export interface NamedTensor {
  readonly name: string;
  readonly tensor: tf.Tensor;
}

/** Optimiser state as named tensors (tfjs's optimizer.getWeights format) + the completed epochs. */
export interface TrainerState {
  readonly epoch: number;
  readonly optimizer: readonly NamedTensor[];
  /** The objective's own state (the centre loss's centres), named `objective/…`. */
  readonly objective?: readonly NamedState[];
}

/**
 * Trains a ReidModel; holds the optimiser (its moments are state worth checkpointing).
 *
 * @example
 * ```ts
 * const trainer = new Trainer(model, { epochs: 6, optimizer: { type: 'sgd', lr: 0.01, momentum: 0.9 } });
 * const report = await trainer.fit(source, { progress: streamProgress() });
 * trainer.dispose();
 * ```
 */
export class Trainer {
  private readonly optimizer: tf.Optimizer;
  private readonly objective: Objective;
  /** Whether `objective` is this trainer's own (the default), disposed with it. */
  private readonly ownsObjective: boolean;
  private completedEpochs = 0;

  constructor(
    private readonly model: ReidModel,
    private readonly opts: TrainOptions,
  ) {
    if (!(opts.epochs >= 1 && Number.isInteger(opts.epochs))) {
      throw new PulError('option.outOfRange', `epochs=${opts.epochs} must be a positive integer`, { option: 'training.epochs' });
    }
    this.optimizer = createOptimizer(opts.optimizer);
    this.ownsObjective = opts.objective === undefined;
    this.objective = opts.objective ?? new Objective(parseLossSpec('ce'));
  }

  /** Epochs completed so far (including restored ones). */
  get epoch(): number {
    return this.completedEpochs;
  }

  /** Trains the remaining epochs; `onEpochEnd` runs after each (e.g. to write a checkpoint). */
  async fit(source: BatchSource, ctx: TrainContext = {}, onEpochEnd?: (record: EpochRecord) => Promise<void>): Promise<EpochRecord[]> {
    const records: EpochRecord[] = [];
    while (this.completedEpochs < this.opts.epochs) {
      const record = await this.runEpoch(source, ctx);
      records.push(record);
      if (onEpochEnd) await onEpochEnd(record);
    }
    return records;
  }

  /** One epoch over `source`. */
  async runEpoch(source: BatchSource, ctx: TrainContext = {}): Promise<EpochRecord> {
    const epoch = this.completedEpochs;
    const progress = ctx.progress ?? silentProgress;
    const task = `train epoch ${epoch + 1}/${this.opts.epochs}`;
    const vars = this.model.net.trainableWeights.map((w) => w.read() as tf.Variable);
    const wd = this.opts.optimizer.weightDecay ?? 0;
    const started = performance.now();
    let steps = 0;
    let images = 0;
    let lossSum = 0;
    let correct = 0;
    const activeShares: number[] = [];
    let lr = this.opts.optimizer.lr;
    let dataMs = 0;
    let stepMs = 0;
    let firstStepMs = 0;
    let waitStart = performance.now();
    for await (const batch of source.batches(epoch, ctx.signal)) {
      const stepStart = performance.now();
      dataMs += stepStart - waitStart;
      if (ctx.signal?.aborted) throw new PulError('interrupted', `training interrupted at epoch ${epoch + 1}, step ${steps + 1}`);
      lr = learningRateAt(this.opts.optimizer, epoch + steps / source.stepsPerEpoch, this.opts.epochs);
      setLearningRate(this.optimizer, lr);
      const { loss, hits, activeShare } = this.step(batch, source, vars, wd, deriveSeed(this.opts.seed ?? 0, epoch, steps) & 0x7fffffff);
      const stepEnd = performance.now();
      stepMs += stepEnd - stepStart;
      if (steps === 0) firstStepMs = stepEnd - stepStart;
      steps++;
      images += batch.labels.length;
      if (!Number.isFinite(loss)) {
        throw new PulError('training.diverged', `loss became ${loss} at epoch ${epoch + 1}, step ${steps} (lr ${lr.toPrecision(3)}); lower the learning rate or check the inputs`, { option: 'optimizer.lr' });
      }
      lossSum += loss * batch.labels.length;
      correct += hits;
      if (activeShare !== null) activeShares.push(activeShare);
      const secs = (performance.now() - started) / 1000;
      const shown = this.objective.usesLogits ? { acc: correct / images } : activeShare === null ? {} : { active: activeShare };
      progress.update({ task, done: steps, total: source.stepsPerEpoch, values: { loss: lossSum / images, ...shown, 'img/s': images / secs } });
      // a step is synchronous and batches arrive as microtasks: without a macrotask turn here a
      // Ctrl-C (signal handler) would only be seen at the end of the epoch
      await new Promise<void>((resolve) => setImmediate(resolve));
      waitStart = performance.now();
    }
    if (ctx.signal?.aborted) throw new PulError('interrupted', `training interrupted at the end of epoch ${epoch + 1}`);
    const seconds = (performance.now() - started) / 1000;
    const record: EpochRecord = {
      epoch: epoch + 1,
      steps,
      loss: images > 0 ? lossSum / images : Number.NaN,
      accuracy: !this.objective.usesLogits ? null : images > 0 ? correct / images : Number.NaN,
      activeShare: activeShares.length > 0 ? activeShares.reduce((a, b) => a + b, 0) / activeShares.length : null,
      activeShares,
      lr,
      seconds,
      imagesPerSecond: images / seconds,
      breakdown: { dataSeconds: dataMs / 1000, stepSeconds: stepMs / 1000, firstStepSeconds: firstStepMs / 1000 },
    };
    this.completedEpochs++;
    if (this.opts.metricsLog !== undefined) {
      await mkdir(path.dirname(this.opts.metricsLog), { recursive: true });
      // RSS and tensor count per epoch: a leak shows as a rising line in the log.
      const memory = { rssMB: Math.round(process.memoryUsage().rss / 2 ** 20), tensors: tf.memory().numTensors };
      await appendFile(this.opts.metricsLog, `${JSON.stringify({ time: new Date().toISOString(), ...record, ...memory })}\n`);
    }
    return record;
  }

  /** One optimiser step; returns the loss, the correctly classified count and the active share (null when the loss has none). */
  private step(batch: TrainBatch, source: BatchSource, vars: tf.Variable[], wd: number, seed: number): { loss: number; hits: number; activeShare: number | null } {
    const objective = this.objective;
    const kept: tf.Tensor[] = [];
    const keep = <T extends tf.Tensor>(t: T): T => {
      kept.push(tf.keep(t));
      return t;
    };
    let hits: tf.Scalar | null = null;
    let activeShare: tf.Scalar | null = null;
    let perAnchor: tf.Tensor1D | null = null;
    let embeddings: tf.Tensor2D | null = null;
    const x = tf.tensor4d(batch.pixels, [...batch.shape]);
    const y = tf.tensor1d(batch.labels, 'int32');
    try {
      // the first convolution's input gradient (the image's) is not computed
      const { value, grads } = withLazyConvInputGradient(() => tf.variableGrads(() => {
        const [emb, logits] = forwardTraining(this.model, x, seed);
        if (objective.usesLogits) hits = keep(tf.sum<tf.Scalar>(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'int32')));
        // the centre update after the step reads this batch's embeddings
        if (objective.stateful) embeddings = keep(emb);
        const v = objective.compute({ embeddings: emb, logits, labels: y, seed, ...(batch.margin === undefined ? {} : { margin: batch.margin }) });
        if (v.activeShare) activeShare = keep(v.activeShare);
        if (v.perAnchor && source.feedback) perAnchor = keep(v.perAnchor);
        return v.loss;
      }, vars));
      // weights the loss does not reach (the classifier under a metric loss) have no gradient: no step, no decay
      applyGradientsWithDecay(this.optimizer, grads, wd);
      const loss = value.dataSync()[0] ?? Number.NaN;
      tf.dispose([value, grads]);
      if (embeddings !== null) objective.afterStep(embeddings, y);
      if (perAnchor !== null) source.feedback?.(batch, (perAnchor as tf.Tensor1D).dataSync() as Float32Array);
      return {
        loss,
        hits: (hits as tf.Scalar | null)?.dataSync()[0] ?? 0,
        activeShare: activeShare === null ? null : ((activeShare as tf.Scalar).dataSync()[0] ?? null),
      };
    } finally {
      tf.dispose([x, y, ...kept]);
    }
  }

  /** The optimiser's state (copies; the caller disposes them) and the completed epoch count. */
  async state(): Promise<TrainerState> {
    const named = await this.optimizer.getWeights();
    return {
      epoch: this.completedEpochs,
      optimizer: named.map((n) => ({ name: n.name, tensor: n.tensor instanceof tf.Variable ? tf.clone(n.tensor) : n.tensor })),
      objective: this.objective.state(),
    };
  }

  /** Restores state saved by `state()` (same model architecture); the tensors are copied. */
  async restore(state: TrainerState): Promise<void> {
    this.completedEpochs = state.epoch;
    await this.optimizer.setWeights(state.optimizer.map((n) => ({ name: n.name, tensor: n.tensor })));
    if (state.objective) this.objective.restore(state.objective);
  }

  dispose(): void {
    disposeOptimizer(this.optimizer);
    if (this.ownsObjective) this.objective.dispose();
  }
}
