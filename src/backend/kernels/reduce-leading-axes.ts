/**
 * Sum and Mean over every axis but the last (per-channel statistics of an NHWC tensor: batch-norm
 * moments and their gradients, bias gradients). The wasm backend's own kernels first transpose the
 * tensor so the reduced axes come last; here it is one pass. Other reductions go to the backend's kernel.
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { allocate, asWasmBackend, heap, offsetOf } from './wasm-heap.js';

interface ReduceAttrs {
  axis: number | number[];
  keepDims: boolean;
}

/** True when `axis` names every axis of a rank-`rank` tensor but the last (per-channel reduction). */
export function reducesLeadingAxes(rank: number, axis: unknown): boolean {
  if (rank < 2) return false;
  const list = (Array.isArray(axis) ? axis : [axis]) as number[];
  const axes = [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  return axes.length === rank - 1 && axes.every((a, i) => a === i);
}

/** True when `axis` names every axis of a rank-`rank` tensor but the first and the last (global pooling of NHWC). */
export function reducesMiddleAxes(rank: number, axis: unknown): boolean {
  if (rank < 3) return false;
  const list = (Array.isArray(axis) ? axis : [axis]) as number[];
  const axes = [...new Set(list.map((a) => (a < 0 ? a + rank : a)))].sort((a, b) => a - b);
  return axes.length === rank - 2 && axes.every((a, i) => a === i + 1);
}

function reduceLeadingAxes(original: KernelFunc, divideByCount: boolean): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const { axis, keepDims } = args.attrs as unknown as ReduceAttrs;
    if (x.dtype !== 'float32' || !reducesLeadingAxes(x.shape.length, axis)) return original(args);
    const backend = asWasmBackend(args.backend);
    const channels = x.shape.at(-1) ?? 1;
    const size = x.shape.reduce((a, b) => a * b, 1);
    const out = allocate(backend, keepDims ? [...x.shape.slice(0, -1).map(() => 1), channels] : [channels]);
    const h = heap(backend);
    const xo = offsetOf(backend, x);
    const acc = new Float64Array(channels);
    for (let p = xo; p < xo + size; p += channels) {
      for (let c = 0; c < channels; c++) acc[c]! += h[p + c]!;
    }
    const oo = offsetOf(backend, out);
    const scale = divideByCount ? channels / size : 1;
    for (let c = 0; c < channels; c++) h[oo + c] = acc[c]! * scale;
    return out;
  };
}

export const sumWrapper = { kernelName: 'Sum', wrap: (original: KernelFunc) => reduceLeadingAxes(original, false) };
export const meanWrapper = { kernelName: 'Mean', wrap: (original: KernelFunc) => reduceLeadingAxes(original, true) };
