/**
 * Conv2D, FusedConv2D (bias + linear/ReLU) and both convolution gradients on pul's native kernels,
 * for the wasm backend. Each wraps the kernel registered before it and hands it every case the native
 * code does not cover (NCHW, dilation, other activations, non-float32).
 */
import type { KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';
import type { NativeKernels } from '../native.js';
import { convGeometry, type ConvAttrs, type ConvGeometry } from './conv-geometry.js';
import { allocate, asWasmBackend, heap, offsetOf } from './wasm-heap.js';

type Wrapper = { readonly kernelName: string; wrap(original: KernelFunc): KernelFunc };

function dims(g: ConvGeometry): Int32Array {
  return Int32Array.from([g.batch, g.inHeight, g.inWidth, g.inChannels, g.filterHeight, g.filterWidth, g.outChannels, g.strideHeight, g.strideWidth, g.padTop, g.padLeft, g.outHeight, g.outWidth]);
}

function supported(attrs: NamedAttrMap, ...tensors: TensorInfo[]): boolean {
  const dilations = attrs['dilations'] as number | number[] | undefined;
  const dilationOne = dilations === undefined || (Array.isArray(dilations) ? dilations.every((d) => d === 1) : dilations === 1);
  const format = attrs['dataFormat'] as string | undefined;
  return dilationOne && (format === undefined || format === 'NHWC' || format === 'channelsLast') && tensors.every((t) => t.dtype === 'float32');
}

function forward(native: NativeKernels, backend: unknown, x: TensorInfo, filter: TensorInfo, bias: TensorInfo | undefined, relu: boolean, attrs: NamedAttrMap): TensorInfo {
  const wasm = asWasmBackend(backend);
  const g = convGeometry(x.shape, filter.shape, attrs as unknown as ConvAttrs);
  const y = allocate(wasm, [g.batch, g.outHeight, g.outWidth, g.outChannels]);
  native.conv2d(heap(wasm), offsetOf(wasm, x), offsetOf(wasm, filter), bias ? offsetOf(wasm, bias) : -1, offsetOf(wasm, y), dims(g), relu ? 1 : 0);
  return y;
}

export function nativeConvWrappers(native: NativeKernels): readonly Wrapper[] {
  return [
    {
      kernelName: 'Conv2D',
      wrap: (original) => (args) => {
        const { x, filter } = args.inputs as { x: TensorInfo; filter: TensorInfo };
        if (!supported(args.attrs ?? {}, x, filter)) return original(args);
        return forward(native, args.backend, x, filter, undefined, false, args.attrs ?? {});
      },
    },
    {
      kernelName: 'FusedConv2D',
      wrap: (original) => (args) => {
        const { x, filter, bias, preluActivationWeights } = args.inputs as { x: TensorInfo; filter: TensorInfo; bias?: TensorInfo; preluActivationWeights?: TensorInfo };
        const attrs = args.attrs ?? {};
        const activation = attrs['activation'] as string | undefined;
        const channels = filter.shape[3] ?? 0;
        const biasPerChannel = bias === undefined || bias.shape.reduce((a, b) => a * b, 1) === channels;
        if (preluActivationWeights !== undefined || !(activation === 'linear' || activation === 'relu') || !biasPerChannel || !supported(attrs, x, filter)) {
          return original(args);
        }
        return forward(native, args.backend, x, filter, bias, activation === 'relu', attrs);
      },
    },
    {
      kernelName: 'Conv2DBackpropInput',
      wrap: (original) => (args) => {
        const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
        const attrs = args.attrs ?? {};
        if (!supported(attrs, dy, filter)) return original(args);
        const wasm = asWasmBackend(args.backend);
        const g = convGeometry(attrs['inputShape'] as number[], filter.shape, attrs as unknown as ConvAttrs);
        const dx = allocate(wasm, [g.batch, g.inHeight, g.inWidth, g.inChannels]);
        native.conv2dBackpropInput(heap(wasm), offsetOf(wasm, dy), offsetOf(wasm, filter), offsetOf(wasm, dx), dims(g));
        return dx;
      },
    },
    {
      kernelName: 'Conv2DBackpropFilter',
      wrap: (original) => (args) => {
        const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
        const attrs = args.attrs ?? {};
        if (!supported(attrs, x, dy)) return original(args);
        const wasm = asWasmBackend(args.backend);
        const filterShape = attrs['filterShape'] as number[];
        const g = convGeometry(x.shape, filterShape, attrs as unknown as ConvAttrs);
        const df = allocate(wasm, [...filterShape]);
        native.conv2dBackpropFilter(heap(wasm), offsetOf(wasm, x), offsetOf(wasm, dy), offsetOf(wasm, df), dims(g));
        return df;
      },
    },
  ];
}
