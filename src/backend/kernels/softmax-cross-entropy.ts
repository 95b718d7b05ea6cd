/**
 * Mean softmax cross-entropy of N×K logits against N integer labels (label smoothing ε) as one wasm
 * kernel, and its gradient as one more: the op-by-op loss (logSoftmax, oneHot, cast, mul, sum, mean,
 * neg) took ~10 kernel calls forward and ~10 backward per training step, each with the engine's
 * dispatch and tape work, for a 65×5 batch. Rows are summed in float64 (the op-by-op path rounds each
 * step to float32: results move by rounding only). A label outside [0, K) gives a zero one-hot row, as
 * tf.oneHot does; a NaN logit gives a NaN loss.
 */
import type { KernelConfig, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import { allocate, asWasmBackend, heap, offsetOf, type WasmBackend } from './wasm-heap.js';

export const SOFTMAX_CROSS_ENTROPY_KERNEL = 'PulSoftmaxCrossEntropy';
export const SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL = 'PulSoftmaxCrossEntropyGrad';

/** Label i (float labels truncated, as tf.cast to int32 does). */
function labelReader(wasm: WasmBackend, labels: TensorInfo): (i: number) => number {
  const h = heap(wasm);
  const at = offsetOf(wasm, labels);
  if (labels.dtype === 'int32') {
    const ints = new Int32Array(h.buffer, h.byteOffset, h.length);
    return (i) => ints[at + i]!;
  }
  return (i) => Math.trunc(h[at + i]!);
}

/**
 * Calls visit(i, c, p, t, rowT) for every logit: p the softmax probability, t the smoothed target, rowT
 * the row's Σ t (1, or ε for a label outside [0, K)); returns Σ t·log p over the batch.
 */
function eachRow(h: Float32Array, from: number, n: number, k: number, label: (i: number) => number, eps: number, visit: ((i: number, c: number, p: number, t: number, rowT: number) => void) | null): number {
  let total = 0;
  for (let i = 0; i < n; i++) {
    const row = from + i * k;
    let max = -Infinity;
    for (let c = 0; c < k; c++) max = Math.max(max, h[row + c]!);
    let s = 0;
    for (let c = 0; c < k; c++) s += Math.exp(h[row + c]! - max);
    const logS = Math.log(s);
    const y = label(i);
    const rowT = (y >= 0 && y < k ? 1 - eps : 0) + eps;
    for (let c = 0; c < k; c++) {
      const t = (c === y ? 1 - eps : 0) + eps / k;
      const z = h[row + c]! - max;
      total += t * (z - logS);
      if (visit !== null) visit(i, c, Math.exp(z) / s, t, rowT);
    }
  }
  return total;
}

function epsOf(attrs: NamedAttrMap | undefined): number {
  return Number(attrs?.['labelSmoothing'] ?? 0);
}

export const softmaxCrossEntropyConfig: Omit<KernelConfig, 'backendName'> = {
  kernelName: SOFTMAX_CROSS_ENTROPY_KERNEL,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { logits, labels } = inputs as { logits: TensorInfo; labels: TensorInfo };
    const wasm = asWasmBackend(backend);
    const [n = 0, k = 0] = logits.shape;
    const out = allocate(wasm, []);
    const label = labelReader(wasm, labels);
    const h = heap(wasm);
    const total = eachRow(h, offsetOf(wasm, logits), n, k, label, epsOf(attrs), null);
    h[offsetOf(wasm, out)] = -total / n;
    return out;
  },
};

/** dlogits = dy/N · (softmax · Σ target − target) (the row's Σ target is 1 unless its label is out of range). */
export const softmaxCrossEntropyGradConfig: Omit<KernelConfig, 'backendName'> = {
  kernelName: SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL,
  kernelFunc: ({ inputs, backend, attrs }) => {
    const { logits, labels, dy } = inputs as { logits: TensorInfo; labels: TensorInfo; dy: TensorInfo };
    const wasm = asWasmBackend(backend);
    const [n = 0, k = 0] = logits.shape;
    const out = allocate(wasm, [n, k]);
    const label = labelReader(wasm, labels);
    const h = heap(wasm);
    const scale = h[offsetOf(wasm, dy)]! / n;
    const to = offsetOf(wasm, out);
    eachRow(h, offsetOf(wasm, logits), n, k, label, epsOf(attrs), (i, c, p, t, rowT) => {
      h[to + i * k + c] = scale * (p * rowT - t);
    });
    return out;
  },
};
