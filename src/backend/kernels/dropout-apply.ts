/**
 * x · floor(u + keep) / keep in one wasm kernel, u the uniform draws of tf.dropout: tf.dropout's Add,
 * Floor, RealDiv and Mul (4 kernel calls, 3 temporaries) in one pass with the same float32 roundings,
 * so the same bits. Its gradient is the same kernel applied to dy.
 */
import type { KernelConfig, TensorInfo } from '@tensorflow/tfjs';
import { allocate, asWasmBackend, heap, offsetOf } from './wasm-heap.js';

export const DROPOUT_APPLY_KERNEL = 'PulDropoutApply';

export const dropoutApplyConfig: Omit<KernelConfig, 'backendName'> = {
  kernelName: DROPOUT_APPLY_KERNEL,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { x, u } = inputs as { x: TensorInfo; u: TensorInfo };
    const wasm = asWasmBackend(backend);
    const out = allocate(wasm, [...x.shape]);
    const h = heap(wasm);
    const keep = Math.fround(Number(attrs?.['keep']));
    const n = x.shape.reduce((a, b) => a * b, 1);
    const xs = offsetOf(wasm, x);
    const us = offsetOf(wasm, u);
    const to = offsetOf(wasm, out);
    for (let i = 0; i < n; i++) h[to + i] = h[xs + i]! * Math.fround(Math.floor(Math.fround(h[us + i]! + keep)) / keep);
    return out;
  },
};
