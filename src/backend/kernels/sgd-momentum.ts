/**
 * PulSgdMomentum (wasm): one variable's SGD-momentum step with coupled weight decay in one pass, as
 * tfjs's MomentumOptimizer after `g + w·wd`, which takes six kernels (and six full-size tensors) per
 * variable:  d = g + w·wd (only when wd > 0),  a' = m·a + d,  w' = c·a' + w  (c = −lr).
 * Outputs [w', a']. Every operation is rounded to float32 (Math.fround) in tfjs's order, so the bits are
 * those of tfjs's kernels.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { allocate, asWasmBackend, heap, offsetOf } from './wasm-heap.js';

export const SGD_MOMENTUM_KERNEL = 'PulSgdMomentum';

export interface SgdMomentumAttrs {
  /** tfjs's c: −learning rate. */
  readonly negLr: number;
  readonly momentum: number;
  /** 0: no decay term at all (g unchanged, as tfjs without the decay ops). */
  readonly weightDecay: number;
}

function sgdMomentum(args: { inputs: { value: TensorInfo; accumulation: TensorInfo; gradient: TensorInfo }; backend: unknown; attrs: SgdMomentumAttrs }): TensorInfo[] {
  const backend = asWasmBackend(args.backend);
  const { value, accumulation, gradient } = args.inputs;
  const newValue = allocate(backend, [...value.shape]);
  const newAccumulation = allocate(backend, [...value.shape]);
  const h = heap(backend);
  const [w, a, g, nw, na] = [value, accumulation, gradient, newValue, newAccumulation].map((t) => offsetOf(backend, t)) as [number, number, number, number, number];
  const f = Math.fround;
  const c = f(args.attrs.negLr);
  const m = f(args.attrs.momentum);
  const wd = f(args.attrs.weightDecay);
  const size = value.shape.reduce((p, q) => p * q, 1);
  for (let i = 0; i < size; i++) {
    const d = wd === 0 ? h[g + i]! : f(h[g + i]! + f(h[w + i]! * wd));
    const acc = f(f(m * h[a + i]!) + d);
    h[na + i] = acc;
    h[nw + i] = f(f(c * acc) + h[w + i]!);
  }
  return [newValue, newAccumulation];
}

export const sgdMomentumConfig: Omit<KernelConfig, 'backendName'> = {
  kernelName: SGD_MOMENTUM_KERNEL,
  kernelFunc: sgdMomentum as unknown as KernelFunc,
};
