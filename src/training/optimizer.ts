/**
 * Optimisers and learning-rate schedules: SGD with momentum or Adam, (coupled, PyTorch-style) weight
 * decay, linear warm-up then a step or cosine schedule.
 */
import type { NamedAttrMap, NamedTensorMap } from '@tensorflow/tfjs';
import { tf } from '../backend/tf.js';
import { PulError } from '../core/errors.js';
import { SGD_MOMENTUM_KERNEL, type SgdMomentumAttrs } from '../backend/kernels/sgd-momentum.js';

/** Optimiser types (config optimizer.type, `pul train --optimizer`). */
export const OPTIMIZER_TYPES = ['sgd', 'adam'] as const;
/** Learning-rate schedule types (`pul train --schedule`). */
export const LR_SCHEDULE_TYPES = ['constant', 'cosine', 'step'] as const;

/** The learning rate after warm-up, by `type`. */
export type LrSchedule =
  | { readonly type: 'constant' }
  /** lr · gamma^floor(epoch / everyEpochs) (the authors' code: ×0.1 every 20 epochs… as configured). */
  | { readonly type: 'step'; readonly everyEpochs: number; readonly gamma: number }
  /** Cosine from lr down to minLr over the epochs after warm-up. */
  | { readonly type: 'cosine'; readonly minLr?: number };

/** The optimiser (config *.optimizer, `pul train --optimizer --lr …`): type, rate, momentum, weight decay, warm-up, schedule. */
export interface OptimizerOptions {
  readonly type: (typeof OPTIMIZER_TYPES)[number];
  readonly lr: number;
  /** SGD momentum (default 0.9); ignored by Adam. */
  readonly momentum?: number;
  /** L2 weight decay added to the gradient (as torch.optim's weight_decay); default 0. */
  readonly weightDecay?: number;
  /** Linear warm-up from lr/10 over this many epochs (fractions allowed); default 0. */
  readonly warmupEpochs?: number;
  readonly schedule?: LrSchedule;
}

/**
 * The schedule a type names, with pul's settings: `step` multiplies the rate by 0.1 every 20 epochs,
 * `cosine` decays it to 0 by the last epoch.
 * @example lrScheduleOf('step') // { type: 'step', everyEpochs: 20, gamma: 0.1 }
 */
export function lrScheduleOf(type: (typeof LR_SCHEDULE_TYPES)[number]): LrSchedule {
  return type === 'step' ? { type, everyEpochs: 20, gamma: 0.1 } : { type };
}

export function validateOptimizerOptions(o: OptimizerOptions): void {
  const bad = (option: string, what: string): never => {
    throw new PulError('option.outOfRange', what, { option: `optimizer.${option}` });
  };
  if (!(o.lr > 0 && Number.isFinite(o.lr))) bad('lr', `learning rate ${o.lr} must be a positive number`);
  if (o.momentum !== undefined && !(o.momentum >= 0 && o.momentum < 1)) bad('momentum', `momentum=${o.momentum} must be in [0, 1)`);
  if (o.weightDecay !== undefined && !(o.weightDecay >= 0)) bad('weightDecay', `weightDecay=${o.weightDecay} must be ≥ 0`);
  if (o.warmupEpochs !== undefined && !(o.warmupEpochs >= 0)) bad('warmupEpochs', `warmupEpochs=${o.warmupEpochs} must be ≥ 0`);
  const s = o.schedule;
  if (s?.type === 'step' && !(s.everyEpochs >= 1 && s.gamma > 0)) bad('schedule', `step schedule needs everyEpochs ≥ 1 and gamma > 0, got ${s.everyEpochs}, ${s.gamma}`);
}

/**
 * The learning rate at a fractional epoch position `t` (epoch + step/stepsPerEpoch) of `totalEpochs`.
 *
 * @example
 * ```ts
 * learningRateAt({ type: 'sgd', lr: 0.1, schedule: { type: 'step', everyEpochs: 10, gamma: 0.1 } }, 12, 40); // 0.01
 * ```
 */
export function learningRateAt(o: OptimizerOptions, t: number, totalEpochs: number): number {
  const warm = o.warmupEpochs ?? 0;
  if (t < warm) return o.lr * (0.1 + (0.9 * t) / warm);
  const s = o.schedule ?? { type: 'constant' };
  switch (s.type) {
    case 'constant':
      return o.lr;
    case 'step':
      return o.lr * s.gamma ** Math.floor(t / s.everyEpochs);
    case 'cosine': {
      const span = Math.max(totalEpochs - warm, 1e-9);
      const p = Math.min(1, (t - warm) / span);
      const min = s.minLr ?? 0;
      return min + 0.5 * (o.lr - min) * (1 + Math.cos(Math.PI * p));
    }
  }
}

/** A tfjs optimiser for these options (learning rate then set per step with setLearningRate). */
export function createOptimizer(o: OptimizerOptions): tf.Optimizer {
  validateOptimizerOptions(o);
  return o.type === 'adam' ? tf.train.adam(o.lr) : tf.train.momentum(o.lr, o.momentum ?? 0.9);
}

/**
 * Sets the rate used by the next applyGradients. Adam reads its `learningRate` field every step; SGD and
 * momentum read a scalar `c` = −lr made at construction, which only their setLearningRate renews (setting
 * the field alone left SGD at its first rate: schedules and warm-up did nothing). No-op when unchanged.
 */
export function setLearningRate(optimizer: tf.Optimizer, lr: number): void {
  const o = optimizer as unknown as { learningRate: number; setLearningRate?: (lr: number) => void };
  if (o.learningRate === lr) return;
  if (typeof o.setLearningRate === 'function') o.setLearningRate(lr);
  else o.learningRate = lr;
}

/** Disposes an optimiser and all it holds: tfjs's MomentumOptimizer.dispose skips SGD's learning-rate scalar `c` (one tensor per optimiser). */
export function disposeOptimizer(optimizer: tf.Optimizer): void {
  optimizer.dispose();
  const c = (optimizer as unknown as { c?: tf.Tensor }).c;
  if (c !== undefined && !c.isDisposed) c.dispose();
}

/** The parts of tfjs's MomentumOptimizer that its applyGradients uses. */
interface MomentumInternals {
  accumulations: ({ originalName: string; variable: tf.Variable } | undefined)[];
  m: tf.Scalar;
  c: tf.Scalar;
  useNesterov: boolean;
  incrementIterations(): void;
}

/**
 * `optimizer.applyGradients` after adding wd·w to each gradient (torch.optim's coupled weight decay,
 * wd = 0: none). For SGD with momentum on a backend with pul's PulSgdMomentum kernel, one kernel per
 * variable instead of six: the same float32 operations in the same order, the same accumulators (named
 * and indexed as tfjs's, so optimiser state saves and restores as before) and the same rate (tfjs's `c`).
 */
export function applyGradientsWithDecay(optimizer: tf.Optimizer, grads: NamedTensorMap, wd: number): void {
  const o = optimizer as unknown as MomentumInternals;
  // (tfjs's Optimizer answers instanceof for any optimiser: the class name tells)
  if (optimizer.getClassName() !== 'Momentum' || o.useNesterov || tf.getKernel(SGD_MOMENTUM_KERNEL, tf.getBackend()) === undefined) {
    const vars = tf.engine().registeredVariables;
    const decayed = wd > 0 ? tf.tidy(() => Object.fromEntries(Object.entries(grads).map(([name, g]) => [name, tf.add(g, tf.mul(vars[name] as tf.Tensor, wd))]))) : grads;
    optimizer.applyGradients(decayed);
    if (decayed !== grads) tf.dispose(decayed);
    return;
  }
  const attrs: SgdMomentumAttrs = { negLr: o.c.dataSync()[0]!, momentum: o.m.dataSync()[0]!, weightDecay: wd };
  Object.keys(grads).forEach((name, i) => {
    const value = tf.engine().registeredVariables[name]!;
    o.accumulations[i] ??= { originalName: `${name}/momentum`, variable: tf.tidy(() => tf.zerosLike(value).variable(false)) };
    const gradient = grads[name];
    if (gradient == null) return;
    const accumulation = o.accumulations[i].variable;
    const [newValue, newAccumulation] = tf.engine().runKernel<tf.Tensor[]>(SGD_MOMENTUM_KERNEL, { value, accumulation, gradient }, attrs as unknown as NamedAttrMap);
    accumulation.assign(newAccumulation!);
    value.assign(newValue!);
    tf.dispose([newValue!, newAccumulation!]);
  });
  o.incrementIterations();
}
