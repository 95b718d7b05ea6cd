/**
 * The training loop: forward in training mode, PUL objective (cross-entropy + β · cluster term), one
 * optimiser step per batch, learning rate per step from the schedule. Reports progress, appends one
 * JSON line per epoch to a metrics log, stops on a non-finite loss or an abort, and disposes every
 * tensor it makes (the numTensors count after an epoch equals the count before it).
 */
import { appendFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { tf } from '../backend/tf.js';
import { PulError } from '../core/errors.js';
import { deriveSeed } from '../core/random.js';
import { silentProgress, type ProgressSink } from '../core/progress.js';
import type { FeatureMatrix } from '../features/feature-matrix.js';
import { pulObjective } from '../losses/cluster-loss.js';
import { LAYER_BNNECK, LAYER_CLASSIFIER, type ReidModel } from '../model/build-model.js';
import type { BatchSource } from './batch-source.js';
import { createOptimizer, disposeOptimizer, learningRateAt, setLearningRate, type OptimizerOptions } from './optimizer.js';

/** What Trainer trains with: epochs, optimiser, losses, dropout seed, metrics log. */
export interface TrainOptions {
  readonly epochs: number;
  readonly optimizer: OptimizerOptions;
  /** Label smoothing ε of the cross-entropy; default 0. */
  readonly labelSmoothing?: number;
  /** β of the cluster term; needs `centroids`. Default 0 (cross-entropy only). */
  readonly clusterWeight?: number;
  /** K×D centroids (L2-normalised here), row k = class k; fixed during training. */
  readonly centroids?: FeatureMatrix | null;
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

/** One finished epoch: mean loss, accuracy, learning rate, seconds. */
export interface EpochRecord {
  readonly epoch: number;
  readonly steps: number;
  readonly loss: number;
  readonly accuracy: number;
  readonly lr: number;
  readonly seconds: number;
  readonly imagesPerSecond: number;
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
  private readonly centroids: tf.Tensor2D | null;
  private completedEpochs = 0;

  constructor(
    private readonly model: ReidModel,
    private readonly opts: TrainOptions,
  ) {
    if (!(opts.epochs >= 1 && Number.isInteger(opts.epochs))) {
      throw new PulError('option.outOfRange', `epochs=${opts.epochs} must be a positive integer`, { option: 'training.epochs' });
    }
    const beta = opts.clusterWeight ?? 0;
    if (!(beta >= 0)) throw new PulError('option.outOfRange', `clusterWeight β=${beta} must be ≥ 0`, { option: 'clusterWeight' });
    const c = opts.centroids ?? null;
    if (beta > 0 && c === null) throw new PulError('option.invalid', `clusterWeight β=${beta} needs centroids`, { option: 'clusterWeight' });
    if (c !== null && c.dim !== model.spec.embeddingDim) {
      throw new PulError('features.mismatch', `centroids have dim ${c.dim}, the model's embedding ${model.spec.embeddingDim}`);
    }
    this.optimizer = createOptimizer(opts.optimizer);
    this.centroids = c === null ? null : tf.tidy(() => {
      const t = tf.tensor2d(c.data, [c.rows, c.dim]);
      return tf.div<tf.Tensor2D>(t, tf.sqrt(tf.maximum(tf.sum(tf.square(t), 1, true), 1e-12)));
    });
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
    let lr = this.opts.optimizer.lr;
    for await (const batch of source.batches(epoch, ctx.signal)) {
      if (ctx.signal?.aborted) throw new PulError('interrupted', `training interrupted at epoch ${epoch + 1}, step ${steps + 1}`);
      lr = learningRateAt(this.opts.optimizer, epoch + steps / source.stepsPerEpoch, this.opts.epochs);
      setLearningRate(this.optimizer, lr);
      const [loss, hits] = this.step(batch.pixels, batch.shape, batch.labels, vars, wd, deriveSeed(this.opts.seed ?? 0, epoch, steps) & 0x7fffffff);
      steps++;
      images += batch.labels.length;
      if (!Number.isFinite(loss)) {
        throw new PulError('training.diverged', `loss became ${loss} at epoch ${epoch + 1}, step ${steps} (lr ${lr.toPrecision(3)}); lower the learning rate or check the inputs`, { option: 'optimizer.lr' });
      }
      lossSum += loss * batch.labels.length;
      correct += hits;
      const secs = (performance.now() - started) / 1000;
      progress.update({ task, done: steps, total: source.stepsPerEpoch, values: { loss: lossSum / images, acc: correct / images, 'img/s': images / secs } });
      // a step is synchronous and batches arrive as microtasks: without a macrotask turn here a
      // Ctrl-C (signal handler) would only be seen at the end of the epoch
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    if (ctx.signal?.aborted) throw new PulError('interrupted', `training interrupted at the end of epoch ${epoch + 1}`);
    const seconds = (performance.now() - started) / 1000;
    const record: EpochRecord = {
      epoch: epoch + 1,
      steps,
      loss: images > 0 ? lossSum / images : Number.NaN,
      accuracy: images > 0 ? correct / images : Number.NaN,
      lr,
      seconds,
      imagesPerSecond: images / seconds,
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

  /** One optimiser step; returns [loss, correctly classified count]. */
  private step(pixels: Float32Array, shape: readonly [number, number, number, number], labels: Int32Array, vars: tf.Variable[], wd: number, seed: number): [number, number] {
    let hits: tf.Scalar | null = null;
    const x = tf.tensor4d(pixels, [...shape]);
    const y = tf.tensor1d(labels, 'int32');
    try {
      const { value, grads } = tf.variableGrads(() => {
        const [emb, logits] = this.forward(x, seed);
        hits = tf.keep(tf.sum<tf.Scalar>(tf.cast(tf.equal(tf.argMax(logits, 1), y), 'int32')));
        return pulObjective(emb, logits, y, this.centroids, {
          labelSmoothing: this.opts.labelSmoothing ?? 0,
          clusterWeight: this.opts.clusterWeight ?? 0,
        });
      }, vars);
      const decayed = wd > 0 ? tf.tidy(() => Object.fromEntries(vars.map((v) => [v.name, tf.add(grads[v.name] as tf.Tensor, tf.mul(v, wd))]))) : grads;
      this.optimizer.applyGradients(decayed);
      const loss = value.dataSync()[0] ?? Number.NaN;
      const h = (hits as tf.Scalar | null)?.dataSync()[0] ?? 0;
      tf.dispose([value, grads, decayed]);
      return [loss, h];
    } finally {
      tf.dispose([x, y, ...(hits === null ? [] : [hits])]);
    }
  }

  /** Training-mode forward → [embedding, logits], with the model's dropout before the classifier. */
  private forward(x: tf.Tensor4D, seed: number): [tf.Tensor2D, tf.Tensor2D] {
    const rate = this.model.spec.dropout;
    const net = this.model.net;
    const head = rate > 0 ? headLayers(net) : null;
    if (head === null) return net.apply(x, { training: true }) as [tf.Tensor2D, tf.Tensor2D];
    const emb = this.model.embedder.apply(x, { training: true }) as tf.Tensor2D;
    const normalised = head.bnneck.apply(emb, { training: true }) as tf.Tensor2D;
    const dropped = tf.dropout(normalised, rate, undefined, seed);
    return [emb, head.classifier.apply(dropped, { training: true }) as tf.Tensor2D];
  }

  /** The optimiser's state (copies; the caller disposes them) and the completed epoch count. */
  async state(): Promise<TrainerState> {
    const named = await this.optimizer.getWeights();
    return { epoch: this.completedEpochs, optimizer: named.map((n) => ({ name: n.name, tensor: n.tensor instanceof tf.Variable ? tf.clone(n.tensor) : n.tensor })) };
  }

  /** Restores state saved by `state()` (same model architecture); the tensors are copied. */
  async restore(state: TrainerState): Promise<void> {
    this.completedEpochs = state.epoch;
    await this.optimizer.setWeights(state.optimizer.map((n) => ({ name: n.name, tensor: n.tensor })));
  }

  dispose(): void {
    disposeOptimizer(this.optimizer);
    if (this.centroids !== null) this.centroids.dispose();
  }
}

/** The BNNeck and classifier of a pul network, or null for a graph of another shape (dropout then skipped). */
function headLayers(net: tf.LayersModel): { bnneck: tf.layers.Layer; classifier: tf.layers.Layer } | null {
  const find = (name: string) => net.layers.find((l) => l.name === name);
  const bnneck = find(LAYER_BNNECK);
  const classifier = find(LAYER_CLASSIFIER);
  return bnneck && classifier ? { bnneck, classifier } : null;
}

