/**
 * MaxPoolGrad for the wasm backend, replacing the backend's own (a per-input-pixel loop that rescans
 * every window). One pass over the outputs: each dy goes to its window's first maximum, the element
 * tfjs's reference kernel picks too (strict >, row-major within the window).
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { tf } from '../tf.js';
import { allocate, asWasmBackend, heap, offsetOf } from './wasm-heap.js';

interface MaxPoolGradAttrs {
  filterSize: number | [number, number];
  strides: number | [number, number];
  pad: 'valid' | 'same' | number;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function maxPoolGrad(args: { inputs: { dy: TensorInfo; input: TensorInfo; output: TensorInfo }; backend: unknown; attrs: MaxPoolGradAttrs }): TensorInfo {
  const backend = asWasmBackend(args.backend);
  const { dy, input } = args.inputs;
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs;
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const { batchSize, inHeight: H, inWidth: W, inChannels: C, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw, filterHeight: fh, filterWidth: fw } = info;
  const dx = allocate(backend, [...input.shape]);
  const h = heap(backend);
  const xo = offsetOf(backend, input);
  const dyo = offsetOf(backend, dy);
  const dxo = offsetOf(backend, dx);
  h.fill(0, dxo, dxo + batchSize * H * W * C);
  for (let n = 0; n < batchSize; n++) {
    for (let oy = 0; oy < oh; oy++) {
      const y0 = oy * sh - info.padInfo.top;
      const yStart = Math.max(0, y0);
      const yEnd = Math.min(H, y0 + fh);
      for (let ox = 0; ox < ow; ox++) {
        const x0 = ox * sw - info.padInfo.left;
        const xStart = Math.max(0, x0);
        const xEnd = Math.min(W, x0 + fw);
        const dyRow = dyo + ((n * oh + oy) * ow + ox) * C;
        for (let c = 0; c < C; c++) {
          let best = Number.NEGATIVE_INFINITY;
          let bestAt = -1;
          for (let y = yStart; y < yEnd; y++) {
            for (let x = xStart; x < xEnd; x++) {
              const at = ((n * H + y) * W + x) * C + c;
              const v = h[xo + at]!;
              if (v > best) {
                best = v;
                bestAt = at;
              }
            }
          }
          if (bestAt >= 0) h[dxo + bestAt]! += h[dyRow + c]!;
        }
      }
    }
  }
  return dx;
}

export const maxPoolGradConfig: Omit<KernelConfig, 'backendName'> = {
  kernelName: 'MaxPoolGrad',
  kernelFunc: maxPoolGrad as unknown as KernelFunc,
};
