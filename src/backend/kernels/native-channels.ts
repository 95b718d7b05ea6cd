/**
 * The per-channel kernels (Sum/Mean over leading axes, their broadcast gradient, the batch-norm
 * gradient) and MaxPoolGrad on pul's native code, on every core. Each wraps pul's JS kernel of the same
 * name and hands it what it does not cover.
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { tf } from '../tf.js';
import type { NativeKernels } from '../native.js';
import { allocate, asWasmBackend, heap, offsetOf, release } from './wasm-heap.js';
import { reducesLeadingAxes, reducesMiddleAxes } from './reduce-leading-axes.js';

type Wrapper = { readonly kernelName: string; wrap(original: KernelFunc): KernelFunc };

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** Sum/Mean over the middle axes (global pooling): the per-channel sum of each image (the backend's own transposes first). */
function perImage(native: NativeKernels, backend: unknown, x: TensorInfo, keepDims: boolean, mean: boolean): TensorInfo {
  const wasm = asWasmBackend(backend);
  const images = x.shape[0] ?? 1;
  const channels = x.shape.at(-1) ?? 1;
  const rows = sizeOf(x.shape) / (images * channels);
  const out = allocate(wasm, keepDims ? [images, ...x.shape.slice(1, -1).map(() => 1), channels] : [images, channels]);
  const h = heap(wasm);
  const xo = offsetOf(wasm, x);
  const oo = offsetOf(wasm, out);
  for (let n = 0; n < images; n++) native.channelSum(h, xo + n * rows * channels, oo + n * channels, rows, channels, mean ? 1 / rows : 1);
  return out;
}

function reduction(native: NativeKernels, kernelName: 'Sum' | 'Mean'): Wrapper {
  return {
    kernelName,
    wrap: (original) => (args) => {
      const { x } = args.inputs as { x: TensorInfo };
      const { axis, keepDims } = args.attrs as { axis: number | number[]; keepDims: boolean };
      if (x.dtype === 'float32' && reducesMiddleAxes(x.shape.length, axis)) return perImage(native, args.backend, x, keepDims, kernelName === 'Mean');
      if (x.dtype !== 'float32' || !reducesLeadingAxes(x.shape.length, axis)) return original(args);
      const wasm = asWasmBackend(args.backend);
      const channels = x.shape.at(-1) ?? 1;
      const rows = sizeOf(x.shape) / channels;
      const out = allocate(wasm, keepDims ? [...x.shape.slice(0, -1).map(() => 1), channels] : [channels]);
      native.channelSum(heap(wasm), offsetOf(wasm, x), offsetOf(wasm, out), rows, channels, kernelName === 'Mean' ? 1 / rows : 1);
      return out;
    },
  };
}

export function nativeChannelWrappers(native: NativeKernels): readonly Wrapper[] {
  return [
    reduction(native, 'Sum'),
    reduction(native, 'Mean'),
    {
      kernelName: 'PulBroadcastChannels',
      wrap: () => (args) => {
        const { v } = args.inputs as { v: TensorInfo };
        const { shape, scale } = args.attrs as { shape: number[]; scale: number };
        const wasm = asWasmBackend(args.backend);
        const out = allocate(wasm, [...shape]);
        const channels = sizeOf(v.shape);
        native.broadcastChannels(heap(wasm), offsetOf(wasm, v), offsetOf(wasm, out), sizeOf(shape) / channels, channels, scale);
        return out;
      },
    },
    {
      // the backend's own is single-threaded; folded into y = x·a[c] + b[c], it runs on every core
      kernelName: 'FusedBatchNorm',
      wrap: (original) => (args) => {
        const { x, mean, variance, offset, scale } = args.inputs as { x: TensorInfo; mean: TensorInfo; variance: TensorInfo; offset?: TensorInfo; scale?: TensorInfo };
        const channels = x.shape.at(-1) ?? 1;
        const perChannel = (t: TensorInfo | undefined) => t === undefined || (t.dtype === 'float32' && sizeOf(t.shape) === channels);
        if (x.dtype !== 'float32' || x.shape.length < 2 || ![mean, variance, offset, scale].every(perChannel)) return original(args);
        const wasm = asWasmBackend(args.backend);
        const eps = (args.attrs as { varianceEpsilon: number }).varianceEpsilon;
        const y = allocate(wasm, [...x.shape]);
        const folded = allocate(wasm, [2 * channels]);
        const h = heap(wasm);
        const [m, v, o, s, f] = [offsetOf(wasm, mean), offsetOf(wasm, variance), offset ? offsetOf(wasm, offset) : -1, scale ? offsetOf(wasm, scale) : -1, offsetOf(wasm, folded)];
        for (let c = 0; c < channels; c++) {
          // float32 like the backend's: a = scale / sqrt(var + eps), b = offset − mean · a
          const a = Math.fround((s < 0 ? 1 : h[s + c]!) / Math.fround(Math.sqrt(Math.fround(h[v + c]! + eps))));
          h[f + c] = a;
          h[f + channels + c] = Math.fround((o < 0 ? 0 : h[o + c]!) - Math.fround(h[m + c]! * a));
        }
        native.channelAffine(h, offsetOf(wasm, x), f, f + channels, offsetOf(wasm, y), sizeOf(x.shape) / channels, channels);
        release(wasm, folded);
        return y;
      },
    },
    {
      kernelName: 'PulBatchNormGrad',
      wrap: () => (args) => {
        const { x, dy, mean, variance, scale } = args.inputs as { x: TensorInfo; dy: TensorInfo; mean: TensorInfo; variance: TensorInfo; scale?: TensorInfo };
        const wasm = asWasmBackend(args.backend);
        const channels = mean.shape[0] ?? 1;
        const dx = allocate(wasm, [...x.shape]);
        const perChannel = [0, 1, 2, 3].map(() => allocate(wasm, [channels]));
        const [dMean, dVariance, dScale, dOffset] = perChannel.map((t) => offsetOf(wasm, t)) as [number, number, number, number];
        native.batchNormGrad(
          heap(wasm), offsetOf(wasm, x), offsetOf(wasm, dy), offsetOf(wasm, mean), offsetOf(wasm, variance), scale ? offsetOf(wasm, scale) : -1,
          offsetOf(wasm, dx), dMean, dVariance, dScale, dOffset, sizeOf(x.shape) / channels, channels, (args.attrs as { varianceEpsilon: number }).varianceEpsilon,
        );
        return [dx, ...perChannel];
      },
    },
    {
      kernelName: 'MaxPoolGrad',
      wrap: (original) => (args) => {
        const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
        const { filterSize, strides, pad, dimRoundingMode } = args.attrs as { filterSize: number | [number, number]; strides: number | [number, number]; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
        if (input.dtype !== 'float32' || input.shape.length !== 4) return original(args);
        const i = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
        const wasm = asWasmBackend(args.backend);
        const dx = allocate(wasm, [...input.shape]);
        const dims = Int32Array.from([i.batchSize, i.inHeight, i.inWidth, i.inChannels, i.filterHeight, i.filterWidth, i.strideHeight, i.strideWidth, i.padInfo.top, i.padInfo.left, i.outHeight, i.outWidth]);
        native.maxPoolGrad(heap(wasm), offsetOf(wasm, input), offsetOf(wasm, dy), offsetOf(wasm, dx), dims);
        return dx;
      },
    },
    ...maxPool(native),
  ];
}

/** MaxPool on every core: the backend's (XNNPACK) runs on one thread, ~2.2 ms for fmnist's 65×28×28×32 per step. */
function maxPool(native: NativeKernels): Wrapper[] {
  const run = native.maxPool?.bind(native);
  if (run === undefined) return [];
  return [
    {
      kernelName: 'MaxPool',
      wrap: (original) => (args) => {
        const { x } = args.inputs as { x: TensorInfo };
        const { filterSize, strides, pad, dimRoundingMode } = args.attrs as { filterSize: number | [number, number]; strides: number | [number, number]; pad: 'valid' | 'same' | number; dimRoundingMode?: 'floor' | 'round' | 'ceil' };
        if (x.dtype !== 'float32' || x.shape.length !== 4) return original(args);
        const i = tf.backend_util.computePool2DInfo(x.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
        const wasm = asWasmBackend(args.backend);
        const y = allocate(wasm, [i.batchSize, i.outHeight, i.outWidth, i.outChannels]);
        run(heap(wasm), offsetOf(wasm, x), offsetOf(wasm, y), Int32Array.from([i.batchSize, i.inHeight, i.inWidth, i.inChannels, i.filterHeight, i.filterWidth, i.strideHeight, i.strideWidth, i.padInfo.top, i.padInfo.left, i.outHeight, i.outWidth]));
        return y;
      },
    },
  ];
}
