/**
 * Add, Sub, Multiply and RealDiv of float32 tensors of different shapes (broadcasting), for the wasm
 * backend: its own takes ~0.7 ms for [64, 10] − [64, 1] whatever the size (a training step has several:
 * softmax cross-entropy and its gradient, the batch-norm and global-pooling gradients), where this loop
 * takes microseconds. Same-shape operands and large outputs (where the backend's fixed cost fades and a
 * JS loop is slower than its SIMD) stay with the backend's kernel. Each result is the float32 rounding of
 * the exact one (as the backend's), so the same bits.
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { tf } from '../tf.js';
import { allocate, asWasmBackend, heap, offsetOf } from './wasm-heap.js';

type Op = 'Add' | 'Sub' | 'Multiply' | 'RealDiv';

/** Outputs above this many elements go to the backend's kernel. */
const MAX_ELEMENTS = 1 << 14;

/** Element strides of `shape` seen through the broadcast `out` shape (0 along broadcast axes). */
function broadcastStrides(shape: readonly number[], out: readonly number[]): number[] {
  const strides = new Array<number>(out.length).fill(0);
  let stride = 1;
  for (let i = shape.length - 1, j = out.length - 1; i >= 0; i--, j--) {
    strides[j] = shape[i] === 1 ? 0 : stride;
    stride *= shape[i]!;
  }
  return strides;
}

function broadcastBinary(op: Op): { kernelName: Op; wrap(original: KernelFunc): KernelFunc } {
  return {
    kernelName: op,
    wrap: (original) => (args) => {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      const same = a.shape.length === b.shape.length && a.shape.every((d, i) => d === b.shape[i]);
      if (same || a.dtype !== 'float32' || b.dtype !== 'float32') return original(args);
      const wasm = asWasmBackend(args.backend);
      const shape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape, b.shape);
      const size = shape.reduce((p, q) => p * q, 1);
      if (size > MAX_ELEMENTS) return original(args);
      const out = allocate(wasm, shape);
      if (size === 0) return out;
      const h = heap(wasm);
      const sa = broadcastStrides(a.shape, shape);
      const sb = broadcastStrides(b.shape, shape);
      const rank = shape.length;
      const inner = rank === 0 ? 1 : shape[rank - 1]!;
      const ia = rank === 0 ? 0 : sa[rank - 1]!;
      const ib = rank === 0 ? 0 : sb[rank - 1]!;
      const index = new Array<number>(Math.max(rank - 1, 0)).fill(0);
      let pa = offsetOf(wasm, a);
      let pb = offsetOf(wasm, b);
      const a0 = pa;
      const b0 = pb;
      for (let o = offsetOf(wasm, out), end = o + size; o < end; o += inner) {
        switch (op) {
          case 'Add':
            for (let k = 0; k < inner; k++) h[o + k] = h[pa + k * ia]! + h[pb + k * ib]!;
            break;
          case 'Sub':
            for (let k = 0; k < inner; k++) h[o + k] = h[pa + k * ia]! - h[pb + k * ib]!;
            break;
          case 'Multiply':
            for (let k = 0; k < inner; k++) h[o + k] = h[pa + k * ia]! * h[pb + k * ib]!;
            break;
          case 'RealDiv':
            for (let k = 0; k < inner; k++) h[o + k] = h[pa + k * ia]! / h[pb + k * ib]!;
            break;
        }
        // next row: an odometer over the outer axes
        for (let d = rank - 2; d >= 0; d--) {
          if (++index[d]! < shape[d]!) break;
          index[d] = 0;
        }
        pa = a0;
        pb = b0;
        for (let d = 0; d < rank - 1; d++) {
          pa += index[d]! * sa[d]!;
          pb += index[d]! * sb[d]!;
        }
      }
      return out;
    },
  };
}

export const broadcastBinaryWrappers = (['Add', 'Sub', 'Multiply', 'RealDiv'] as const).map(broadcastBinary);
