/**
 * PulBroadcastChannels (wasm): out[p, c] = v[c] · scale for an output of any shape whose last axis has
 * v's length. The gradient of a per-channel mean is this; tfjs's own builds a full-size JS array of
 * ones, uploads it and multiplies.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { allocate, asWasmBackend, heap, offsetOf } from './wasm-heap.js';

export const BROADCAST_CHANNELS_KERNEL = 'PulBroadcastChannels';

function broadcastChannels(args: { inputs: { v: TensorInfo }; backend: unknown; attrs: { shape: number[]; scale: number } }): TensorInfo {
  const backend = asWasmBackend(args.backend);
  const { v } = args.inputs;
  const { shape, scale } = args.attrs;
  const channels = v.shape.reduce((a, b) => a * b, 1);
  const size = shape.reduce((a, b) => a * b, 1);
  const out = allocate(backend, [...shape]);
  const h = heap(backend);
  const vo = offsetOf(backend, v);
  const values = new Float32Array(channels);
  for (let c = 0; c < channels; c++) values[c] = h[vo + c]! * scale;
  const oo = offsetOf(backend, out);
  for (let p = oo; p < oo + size; p += channels) h.set(values, p);
  return out;
}

export const broadcastChannelsConfig: Omit<KernelConfig, 'backendName'> = {
  kernelName: BROADCAST_CHANNELS_KERNEL,
  kernelFunc: broadcastChannels as unknown as KernelFunc,
};
