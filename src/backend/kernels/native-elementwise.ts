/**
 * Add, Sub, Multiply and Square of large float32 tensors on pul's native code, on every core: the backend's
 * own run on one thread, and a training step spends a good part of its time in them (batch-norm statistics
 * and their gradients over whole feature maps). Covered: b of a's shape, one value per channel (the last
 * axis) or one value; every other case, and small tensors (not worth waking the threads), goes to the
 * kernel registered before. The same IEEE operations, so the same bits.
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { NativeKernels } from '../native.js';
import { allocate, asWasmBackend, heap, offsetOf } from './wasm-heap.js';
import { SGD_MOMENTUM_KERNEL, type SgdMomentumAttrs } from './sgd-momentum.js';

type Wrapper = { readonly kernelName: string; wrap(original: KernelFunc): KernelFunc };

/** Below this many elements the single-threaded kernel is as fast. */
const MIN_ELEMENTS = 1 << 15;
const OPS = { Add: 0, Sub: 1, Multiply: 2 } as const;
const SQUARE = 3;
const WHOLE = 0;
const PER_CHANNEL = 1;
const SCALAR = 2;

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** How b broadcasts over a (a's shape is the output's), or null when not a case the native kernel covers. */
function broadcastMode(a: TensorInfo, b: TensorInfo): number | null {
  if (b.shape.length > a.shape.length) return null; // the output would have b's rank
  if (b.shape.length === a.shape.length && b.shape.every((d, i) => d === a.shape[i])) return WHOLE;
  const size = sizeOf(b.shape);
  if (size === 1) return SCALAR;
  if (b.shape.at(-1) === a.shape.at(-1) && size === b.shape.at(-1)) return PER_CHANNEL;
  return null;
}

function binary(native: NativeKernels, kernelName: keyof typeof OPS): Wrapper {
  return {
    kernelName,
    wrap: (original) => (args) => {
      const { a, b } = args.inputs as { a: TensorInfo; b: TensorInfo };
      if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length === 0 || sizeOf(a.shape) < MIN_ELEMENTS) return original(args);
      const mode = broadcastMode(a, b);
      if (mode === null) return original(args);
      const wasm = asWasmBackend(args.backend);
      const out = allocate(wasm, [...a.shape]);
      const channels = a.shape.at(-1)!;
      native.elementwise(heap(wasm), OPS[kernelName], mode, offsetOf(wasm, a), offsetOf(wasm, b), offsetOf(wasm, out), sizeOf(a.shape) / channels, channels);
      return out;
    },
  };
}

/** The SGD-momentum step (sgd-momentum.ts) in C: the same float32 operations, no fused multiply-add. */
function sgdMomentum(native: NativeKernels): Wrapper[] {
  const run = native.sgdMomentum?.bind(native);
  if (run === undefined) return [];
  return [
    {
      kernelName: SGD_MOMENTUM_KERNEL,
      wrap: () => (args) => {
        const { value, accumulation, gradient } = args.inputs as { value: TensorInfo; accumulation: TensorInfo; gradient: TensorInfo };
        const { negLr, momentum, weightDecay } = args.attrs as unknown as SgdMomentumAttrs;
        const wasm = asWasmBackend(args.backend);
        const outs = [allocate(wasm, [...value.shape]), allocate(wasm, [...value.shape])] as const;
        const [w, a, g, nw, na] = [value, accumulation, gradient, ...outs].map((t) => offsetOf(wasm, t)) as [number, number, number, number, number];
        run(heap(wasm), w, a, g, nw, na, sizeOf(value.shape), Math.fround(negLr), Math.fround(momentum), Math.fround(weightDecay));
        return [...outs];
      },
    },
  ];
}

export function nativeElementwiseWrappers(native: NativeKernels): readonly Wrapper[] {
  return [
    ...sgdMomentum(native),
    binary(native, 'Add'),
    binary(native, 'Sub'),
    binary(native, 'Multiply'),
    {
      kernelName: 'Square',
      wrap: (original) => (args) => {
        const { x } = args.inputs as { x: TensorInfo };
        if (x.dtype !== 'float32' || x.shape.length === 0 || sizeOf(x.shape) < MIN_ELEMENTS) return original(args);
        const wasm = asWasmBackend(args.backend);
        const out = allocate(wasm, [...x.shape]);
        const channels = x.shape.at(-1)!;
        native.elementwise(heap(wasm), SQUARE, WHOLE, offsetOf(wasm, x), -1, offsetOf(wasm, out), sizeOf(x.shape) / channels, channels);
        return out;
      },
    },
  ];
}
