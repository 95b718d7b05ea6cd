/**
 * BatchMatMul on pul's native SGEMM (every core, transposes free), for the wasm backend: the backend's
 * own is fast only without transposes and then runs at about half the native speed. Batch broadcasting
 * other than "one B for every A" goes to the backend's kernel.
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { tf } from '../tf.js';
import type { NativeKernels } from '../native.js';
import { allocate, asWasmBackend, heap, offsetOf } from './wasm-heap.js';

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

export function nativeMatMulWrapper(native: NativeKernels): { readonly kernelName: string; wrap(original: KernelFunc): KernelFunc } {
  return {
    kernelName: 'BatchMatMul',
    wrap: (original) => (args) => {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
      if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return original(args);
      const batchA = sizeOf(a.shape.slice(0, -2));
      const batchB = sizeOf(b.shape.slice(0, -2));
      if (batchB !== batchA && batchB !== 1) return original(args);
      const [ar, ac] = a.shape.slice(-2) as [number, number];
      const [br, bc] = b.shape.slice(-2) as [number, number];
      const m = transposeA ? ac : ar;
      const k = transposeA ? ar : ac;
      const n = transposeB ? br : bc;
      if ((transposeB ? bc : br) !== k) return original(args); // let the backend report the shape error
      const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
      const wasm = asWasmBackend(args.backend);
      const out = allocate(wasm, [...outer, m, n]);
      native.batchMatMul(heap(wasm), offsetOf(wasm, a), offsetOf(wasm, b), offsetOf(wasm, out), batchA, m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0, batchB === 1 && batchA > 1 ? 1 : 0);
      return out;
    },
  };
}
