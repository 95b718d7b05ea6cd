/**
 * Direct access to the wasm backend's tensors for pul's kernels. A kernel that called public tf ops
 * would re-enter the engine from inside a kernel (which breaks tfjs-layers training); so pul's kernels
 * work on the backend's heap and call the backend's own kernel functions (Conv2D, BatchMatMul) directly.
 */
import type { DataType, TensorInfo } from '@tensorflow/tfjs';
import { tf } from '../tf.js';

interface WasmTensorData {
  readonly id: number;
  readonly memoryOffset: number;
}

/** The parts of tfjs-backend-wasm's BackendWasm that pul's kernels use. */
export interface WasmBackend {
  readonly dataIdMap: { get(dataId: object): WasmTensorData | undefined };
  readonly wasm: { readonly HEAPF32: Float32Array; readonly wasmMemory?: { readonly buffer: ArrayBufferLike } };
  makeOutput(shape: number[], dtype: DataType): TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

export function asWasmBackend(backend: unknown): WasmBackend {
  return backend as WasmBackend;
}

let sharedView: Float32Array | null = null;

/**
 * The current float view of the wasm heap. Any allocation may grow the heap: fetch it again after
 * every makeOutput or kernel call. With the threaded build the memory is shared and a worker thread
 * may have grown it, leaving the module's HEAPF32 a shorter view of the old buffer (accesses past its
 * end would be silently dropped): so the view is checked against the memory's current buffer.
 */
export function heap(backend: WasmBackend): Float32Array {
  const { HEAPF32, wasmMemory } = backend.wasm;
  if (wasmMemory === undefined || HEAPF32.buffer === wasmMemory.buffer) return HEAPF32;
  if (sharedView === null || sharedView.buffer !== wasmMemory.buffer) sharedView = new Float32Array(wasmMemory.buffer);
  return sharedView;
}

/** Index of a tensor's first element in heap(backend). */
export function offsetOf(backend: WasmBackend, info: TensorInfo): number {
  const data = backend.dataIdMap.get(info.dataId);
  if (data === undefined) throw new Error('tensor data is not on the wasm backend');
  return data.memoryOffset >>> 2;
}

/** A float32 tensor on the heap, uninitialised. */
export function allocate(backend: WasmBackend, shape: number[]): TensorInfo {
  return backend.makeOutput(shape, 'float32');
}

export function release(backend: WasmBackend, ...infos: TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** Calls the wasm backend's own kernel (not the engine), returning its output tensor info. */
export function callWasmKernel(name: string, backend: WasmBackend, inputs: Record<string, TensorInfo>, attrs: Record<string, unknown>): TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (kernel === undefined) throw new Error(`wasm backend has no ${name} kernel`);
  const out = kernel.kernelFunc({ inputs, attrs: attrs as never, backend: backend });
  if (Array.isArray(out)) throw new Error(`${name} returned several outputs`);
  return out;
}

/**
 * C = A · B for A [m, k] and B [k, n] (row-major, on the heap), through the backend's BatchMatMul,
 * which is fast (XNNPACK) only without transposes — callers lay their operands out for that.
 */
export function matMul(backend: WasmBackend, a: TensorInfo, m: number, k: number, b: TensorInfo, n: number): TensorInfo {
  const a3 = { dataId: a.dataId, shape: [1, m, k], dtype: 'float32' as const };
  const b3 = { dataId: b.dataId, shape: [1, k, n], dtype: 'float32' as const };
  return callWasmKernel('BatchMatMul', backend, { a: a3, b: b3 }, { transposeA: false, transposeB: false });
}
