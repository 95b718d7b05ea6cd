/**
 * PulBatchNormTraining (wasm, pul's native code): tfjs-layers' BatchNormalization in training mode as one
 * kernel — batch mean and biased variance per channel, y = (x − mean)/√(variance + ε)·scale + offset
 * (ReLU'd when `relu`), and the layer's moving-average update. Outputs [y, mean, variance, moving mean′,
 * moving variance′]. PulBatchNormTrainingGrad: the gradient of y with respect to x, scale and offset
 * (through the batch statistics and the ReLU mask), outputs [dx, dscale, doffset].
 * ../batch-norm-training.ts plugs them into the layers.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import type { NativeKernels } from '../native.js';
import { allocate, asWasmBackend, heap, offsetOf } from './wasm-heap.js';

export const BATCH_NORM_TRAINING_KERNEL = 'PulBatchNormTraining';
export const BATCH_NORM_TRAINING_GRAD_KERNEL = 'PulBatchNormTrainingGrad';

export interface BatchNormTrainingAttrs {
  readonly varianceEpsilon: number;
  /** tfjs-layers' momentum: moving ← moving − (moving − batch)·(1 − momentum). */
  readonly momentum: number;
  readonly relu: boolean;
}

const sizeOf = (shape: readonly number[]) => shape.reduce((a, b) => a * b, 1);

/** The two kernels, or none when the addon predates them. */
export function batchNormTrainingKernels(native: NativeKernels): Omit<KernelConfig, 'backendName'>[] {
  const batchNormTraining = native.batchNormTraining?.bind(native);
  const batchNormTrainingGrad = native.batchNormTrainingGrad?.bind(native);
  if (batchNormTraining === undefined || batchNormTrainingGrad === undefined) return [];
  const forward = (args: {
    inputs: { x: TensorInfo; scale: TensorInfo; offset: TensorInfo; movingMean: TensorInfo; movingVariance: TensorInfo };
    backend: unknown;
    attrs: BatchNormTrainingAttrs;
  }): TensorInfo[] => {
    const wasm = asWasmBackend(args.backend);
    const { x, scale, offset, movingMean, movingVariance } = args.inputs;
    const channels = x.shape.at(-1) ?? 1;
    const y = allocate(wasm, [...x.shape]);
    const perChannel = [0, 1, 2, 3].map(() => allocate(wasm, [channels]));
    const [mean, variance, nextMean, nextVariance] = perChannel.map((t) => offsetOf(wasm, t)) as [number, number, number, number];
    const h = heap(wasm); // after every allocation: one may have grown the heap
    batchNormTraining(
      h, offsetOf(wasm, x), offsetOf(wasm, scale), offsetOf(wasm, offset), offsetOf(wasm, y), mean, variance,
      sizeOf(x.shape) / channels, channels, args.attrs.relu ? 1 : 0, args.attrs.varianceEpsilon,
    );
    // tfjs-layers' doMovingAverage in float32: moving − (moving − batch)·decay, decay = 1 − momentum as a float32 scalar
    const decay = Math.fround(1 - args.attrs.momentum);
    const [mm, mv] = [offsetOf(wasm, movingMean), offsetOf(wasm, movingVariance)];
    for (let c = 0; c < channels; c++) {
      h[nextMean + c] = h[mm + c]! - Math.fround(Math.fround(h[mm + c]! - h[mean + c]!) * decay);
      h[nextVariance + c] = h[mv + c]! - Math.fround(Math.fround(h[mv + c]! - h[variance + c]!) * decay);
    }
    return [y, ...perChannel];
  };
  const backward = (args: {
    inputs: { x: TensorInfo; dy: TensorInfo; scale: TensorInfo; offset: TensorInfo; mean: TensorInfo; variance: TensorInfo };
    backend: unknown;
    attrs: BatchNormTrainingAttrs;
  }): TensorInfo[] => {
    const wasm = asWasmBackend(args.backend);
    const { x, dy, scale, offset, mean, variance } = args.inputs;
    const channels = x.shape.at(-1) ?? 1;
    const dx = allocate(wasm, [...x.shape]);
    const dScale = allocate(wasm, [channels]);
    const dOffset = allocate(wasm, [channels]);
    batchNormTrainingGrad(
      heap(wasm), offsetOf(wasm, x), offsetOf(wasm, dy), offsetOf(wasm, scale), offsetOf(wasm, offset), offsetOf(wasm, mean), offsetOf(wasm, variance),
      offsetOf(wasm, dx), offsetOf(wasm, dScale), offsetOf(wasm, dOffset), sizeOf(x.shape) / channels, channels, args.attrs.relu ? 1 : 0, args.attrs.varianceEpsilon,
    );
    return [dx, dScale, dOffset];
  };
  return [
    { kernelName: BATCH_NORM_TRAINING_KERNEL, kernelFunc: forward as unknown as KernelFunc },
    { kernelName: BATCH_NORM_TRAINING_GRAD_KERNEL, kernelFunc: backward as unknown as KernelFunc },
  ];
}
