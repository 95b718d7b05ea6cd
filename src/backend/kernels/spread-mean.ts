/**
 * PulSpreadMean (wasm): the gradient of a mean over the middle axes of x [outer, …, channels] (global
 * average pooling): dx[o, …, c] = dy[o, c] / size. tfjs's own builds a full-size tensor of ones,
 * multiplies by broadcasting (slow on the wasm backend) and divides; this writes each image's row once
 * and copies it through the image. dy·1/size rounds as tfjs's dy·1 then /size, so the same bits.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { allocate, asWasmBackend, heap, offsetOf } from './wasm-heap.js';

export const SPREAD_MEAN_KERNEL = 'PulSpreadMean';

function spreadMean(args: { inputs: { dy: TensorInfo }; backend: unknown; attrs: { shape: number[]; size: number } }): TensorInfo {
  const backend = asWasmBackend(args.backend);
  const { shape, size } = args.attrs;
  const outer = shape[0] ?? 1;
  const channels = shape.at(-1) ?? 1;
  const perImage = shape.reduce((a, b) => a * b, 1) / outer;
  const out = allocate(backend, [...shape]);
  const h = heap(backend);
  const dy = offsetOf(backend, args.inputs.dy);
  const divisor = Math.fround(size);
  for (let o = 0, dst = offsetOf(backend, out); o < outer; o++, dst += perImage) {
    for (let c = 0; c < channels; c++) h[dst + c] = h[dy + o * channels + c]! / divisor;
    // double the filled part until the image is full
    for (let filled = channels; filled < perImage; filled *= 2) h.copyWithin(dst + filled, dst, dst + Math.min(filled, perImage - filled));
  }
  return out;
}

export const spreadMeanConfig: Omit<KernelConfig, 'backendName'> = {
  kernelName: SPREAD_MEAN_KERNEL,
  kernelFunc: spreadMean as unknown as KernelFunc,
};
