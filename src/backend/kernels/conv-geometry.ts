/** Geometry of a 2-D convolution (NHWC), as tfjs computes it, for pul's gradient kernels. */
import { tf } from '../tf.js';

export interface ConvGeometry {
  readonly batch: number;
  readonly inHeight: number;
  readonly inWidth: number;
  readonly inChannels: number;
  readonly outHeight: number;
  readonly outWidth: number;
  readonly outChannels: number;
  readonly filterHeight: number;
  readonly filterWidth: number;
  readonly strideHeight: number;
  readonly strideWidth: number;
  readonly padTop: number;
  readonly padLeft: number;
  readonly padBottom: number;
  readonly padRight: number;
}

/** The attributes tfjs passes to its convolution gradient kernels. */
export interface ConvAttrs {
  strides: number | number[];
  pad: 'valid' | 'same' | number | number[][];
  dataFormat: string;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

export function convGeometry(inputShape: readonly number[], filterShape: readonly number[], attrs: ConvAttrs): ConvGeometry {
  const { strides, pad, dimRoundingMode, dataFormat } = attrs;
  if (dataFormat !== 'NHWC' && dataFormat !== 'channelsLast') {
    throw new Error(`pul's wasm convolution gradients support NHWC only, got ${dataFormat}`);
  }
  const info = tf.backend_util.computeConv2DInfo(
    inputShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides as number | [number, number],
    1,
    pad as 'valid',
    dimRoundingMode,
  );
  return {
    batch: info.batchSize,
    inHeight: info.inHeight,
    inWidth: info.inWidth,
    inChannels: info.inChannels,
    outHeight: info.outHeight,
    outWidth: info.outWidth,
    outChannels: info.outChannels,
    filterHeight: info.filterHeight,
    filterWidth: info.filterWidth,
    strideHeight: info.strideHeight,
    strideWidth: info.strideWidth,
    padTop: info.padInfo.top,
    padLeft: info.padInfo.left,
    padBottom: info.padInfo.bottom,
    padRight: info.padInfo.right,
  };
}
