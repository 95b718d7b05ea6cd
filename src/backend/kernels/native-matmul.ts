/**
 * BatchMatMul and _FusedMatMul (dense layers: bias, linear/ReLU) on pul's native SGEMM (every core,
 * transposes free), for the wasm backend: the backend's own is fast only without transposes and then runs
 * at about half the native speed, and its fused one goes through XNNPACK. Batch broadcasting other than
 * "one B for every A", other activations and other bias shapes go to the backend's kernels.
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { tf } from '../tf.js';
import type { NativeKernels } from '../native.js';
import { allocate, asWasmBackend, heap, offsetOf } from './wasm-heap.js';

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** op(a)·op(b) on the native SGEMM, or null when the native kernel does not cover the case. */
function nativeMatMul(native: NativeKernels, backend: unknown, a: TensorInfo, b: TensorInfo, transposeA: boolean, transposeB: boolean): TensorInfo | null {
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return null;
  const batchA = sizeOf(a.shape.slice(0, -2));
  const batchB = sizeOf(b.shape.slice(0, -2));
  if (batchB !== batchA && batchB !== 1) return null;
  const [ar, ac] = a.shape.slice(-2) as [number, number];
  const [br, bc] = b.shape.slice(-2) as [number, number];
  const m = transposeA ? ac : ar;
  const k = transposeA ? ar : ac;
  const n = transposeB ? br : bc;
  if ((transposeB ? bc : br) !== k) return null; // let the backend report the shape error
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const wasm = asWasmBackend(backend);
  const out = allocate(wasm, [...outer, m, n]);
  native.batchMatMul(heap(wasm), offsetOf(wasm, a), offsetOf(wasm, b), offsetOf(wasm, out), batchA, m, n, k, transposeA ? 1 : 0, transposeB ? 1 : 0, batchB === 1 && batchA > 1 ? 1 : 0);
  return out;
}

export function nativeMatMulWrappers(native: NativeKernels): readonly { readonly kernelName: string; wrap(original: KernelFunc): KernelFunc }[] {
  return [
    {
      kernelName: 'BatchMatMul',
      wrap: (original) => (args) => {
        const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
        const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
        return nativeMatMul(native, args.backend, a, b, transposeA, transposeB) ?? original(args);
      },
    },
    {
      // dense layers: the product on the native SGEMM, then bias (one value per column) and linear/ReLU
      kernelName: '_FusedMatMul',
      wrap: (original) => (args) => {
        const { a, b, bias, preluActivationWeights } = args.inputs as { a: TensorInfo; b: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
        const { transposeA, transposeB, activation } = args.attrs as { transposeA: boolean; transposeB: boolean; activation?: string };
        const n = transposeB ? b.shape.at(-2) : b.shape.at(-1);
        const act = activation ?? 'linear';
        if (preluActivationWeights !== undefined || !(act === 'linear' || act === 'relu') || (bias !== undefined && (bias.dtype !== 'float32' || sizeOf(bias.shape) !== n))) return original(args);
        const out = nativeMatMul(native, args.backend, a, b, transposeA, transposeB);
        if (out === null) return original(args);
        const wasm = asWasmBackend(args.backend);
        const h = heap(wasm);
        const o = offsetOf(wasm, out);
        const size = sizeOf(out.shape);
        const columns = n ?? 1;
        if (bias !== undefined) {
          const bo = offsetOf(wasm, bias);
          for (let i = 0; i < size; i++) h[o + i]! += h[bo + (i % columns)]!;
        }
        if (act === 'relu') for (let i = 0; i < size; i++) if (h[o + i]! < 0) h[o + i] = 0; // NaN stays NaN
        return out;
      },
    },
  ];
}
