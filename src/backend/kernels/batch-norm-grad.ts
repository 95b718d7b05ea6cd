/**
 * PulBatchNormGrad (wasm): every gradient of FusedBatchNorm with per-channel statistics in one pass
 * over x and dy. tfjs's own gradient tiles the per-channel scale to the full tensor and makes four
 * full-size reductions; with S1 = Σ dy and S2 = Σ dy·(x − mean) per channel:
 *   dx = dy·scale·r,  dmean = −r·scale·S1,  dvariance = −½·r³·scale·S2,  dscale = r·S2,  doffset = S1,
 * where r = 1/√(variance + ε). Outputs in that order.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { allocate, asWasmBackend, heap, offsetOf } from './wasm-heap.js';

export const BATCH_NORM_GRAD_KERNEL = 'PulBatchNormGrad';

function batchNormGrad(args: {
  inputs: { x: TensorInfo; dy: TensorInfo; mean: TensorInfo; variance: TensorInfo; scale?: TensorInfo };
  backend: unknown;
  attrs: { varianceEpsilon: number };
}): TensorInfo[] {
  const backend = asWasmBackend(args.backend);
  const { x, dy, mean, variance, scale } = args.inputs;
  const channels = mean.shape[0] ?? 1;
  const size = x.shape.reduce((a, b) => a * b, 1);
  const dx = allocate(backend, [...x.shape]);
  const perChannel = [0, 1, 2, 3].map(() => allocate(backend, [channels]));
  const h = heap(backend);
  const xo = offsetOf(backend, x);
  const dyo = offsetOf(backend, dy);
  const dxo = offsetOf(backend, dx);
  const mo = offsetOf(backend, mean);
  const vo = offsetOf(backend, variance);
  const so = scale === undefined ? -1 : offsetOf(backend, scale);
  const r = new Float64Array(channels);
  const gain = new Float64Array(channels);
  const s1 = new Float64Array(channels);
  const s2 = new Float64Array(channels);
  for (let c = 0; c < channels; c++) {
    r[c] = 1 / Math.sqrt(h[vo + c]! + args.attrs.varianceEpsilon);
    gain[c] = r[c]! * (so < 0 ? 1 : h[so + c]!);
  }
  for (let p = 0; p < size; p += channels) {
    for (let c = 0; c < channels; c++) {
      const g = h[dyo + p + c]!;
      s1[c]! += g;
      s2[c]! += g * (h[xo + p + c]! - h[mo + c]!);
      h[dxo + p + c] = g * gain[c]!;
    }
  }
  const [dMean, dVariance, dScale, dOffset] = perChannel.map((t) => offsetOf(backend, t)) as [number, number, number, number];
  for (let c = 0; c < channels; c++) {
    const sc = so < 0 ? 1 : h[so + c]!;
    const rc = r[c]!;
    h[dMean + c] = -rc * sc * s1[c]!;
    h[dVariance + c] = -0.5 * rc * rc * rc * sc * s2[c]!;
    h[dScale + c] = rc * s2[c]!;
    h[dOffset + c] = s1[c]!;
  }
  return [dx, ...perChannel];
}

export const batchNormGradConfig: Omit<KernelConfig, 'backendName'> = {
  kernelName: BATCH_NORM_GRAD_KERNEL,
  kernelFunc: batchNormGrad as unknown as KernelFunc,
};
