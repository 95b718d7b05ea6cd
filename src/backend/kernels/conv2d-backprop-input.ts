/**
 * Conv2DBackpropInput for the wasm backend, replacing the backend's own, which is a plain loop about
 * 12× slower than its forward convolution (../shared/notes/wasm-training-profile.md).
 *
 * Stride 1: dx is a forward convolution of dy with the spatially flipped, in/out-swapped filter and
 * padding (kh−1−top, kh−1−bottom), run by the backend's XNNPACK Conv2D — the forward's speed.
 * Stride > 1: columns [rows, kh·kw·ci] = dy [rows, co] · Wᵀ [co, kh·kw·ci] (one GEMM), then col2im
 * scatters them back into dx; no zero-dilated dy, so no wasted multiplications.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { columnBudget } from './column-budget.js';
import { convGeometry, type ConvAttrs, type ConvGeometry } from './conv-geometry.js';
import { allocate, asWasmBackend, callWasmKernel, heap, matMul, offsetOf, release, type WasmBackend } from './wasm-heap.js';
import { transposeRowsToColumns } from './transpose.js';


interface BackpropInputAttrs extends ConvAttrs {
  inputShape: number[];
}

function conv2dBackpropInput(args: { inputs: { dy: TensorInfo; filter: TensorInfo }; backend: unknown; attrs: BackpropInputAttrs }): TensorInfo {
  const backend = asWasmBackend(args.backend);
  const { dy, filter } = args.inputs;
  const g = convGeometry(args.attrs.inputShape, filter.shape, args.attrs);
  return g.strideHeight === 1 && g.strideWidth === 1 ? viaForwardConv(backend, dy, filter, g) : viaColumns(backend, dy, filter, g);
}

function viaForwardConv(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const { filterHeight: kh, filterWidth: kw, inChannels: ci, outChannels: co } = g;
  const flipped = allocate(backend, [kh, kw, co, ci]);
  const h = heap(backend);
  const src = offsetOf(backend, filter);
  const dst = offsetOf(backend, flipped);
  for (let ky = 0; ky < kh; ky++) {
    for (let kx = 0; kx < kw; kx++) {
      const s = src + ((kh - 1 - ky) * kw + (kw - 1 - kx)) * ci * co;
      const d = dst + (ky * kw + kx) * co * ci;
      // [ci, co] block → [co, ci] block
      transposeRowsToColumns(h, s, d, ci, co);
    }
  }
  const padding = [
    [0, 0],
    [kh - 1 - g.padTop, kh - 1 - g.padBottom],
    [kw - 1 - g.padLeft, kw - 1 - g.padRight],
    [0, 0],
  ];
  const dx = callWasmKernel('Conv2D', backend, { x: dy, filter: flipped }, { strides: [1, 1], pad: padding, dataFormat: 'NHWC', dilations: [1, 1], dimRoundingMode: undefined });
  release(backend, flipped);
  return dx;
}

function viaColumns(backend: WasmBackend, dy: TensorInfo, filter: TensorInfo, g: ConvGeometry): TensorInfo {
  const { inHeight: H, inWidth: W, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = g;
  const taps = g.filterHeight * g.filterWidth * ci;
  const rowsPerImage = oh * ow;
  const imagesPerChunk = Math.max(1, Math.min(g.batch, Math.floor(columnBudget() / (taps * rowsPerImage))));

  const filterT = allocate(backend, [co, taps]);
  transposeRowsToColumns(heap(backend), offsetOf(backend, filter), offsetOf(backend, filterT), taps, co);
  const dx = allocate(backend, [g.batch, H, W, ci]);
  const dxOffset = offsetOf(backend, dx);
  heap(backend).fill(0, dxOffset, dxOffset + g.batch * H * W * ci);

  for (let first = 0; first < g.batch; first += imagesPerChunk) {
    const count = Math.min(imagesPerChunk, g.batch - first);
    const rows = count * rowsPerImage;
    let dyChunk = dy;
    if (count !== g.batch) {
      dyChunk = allocate(backend, [rows, co]);
      const s = offsetOf(backend, dy) + first * rowsPerImage * co;
      heap(backend).copyWithin(offsetOf(backend, dyChunk), s, s + rows * co);
    }
    const columns = matMul(backend, dyChunk, rows, co, filterT, taps);
    scatterColumns(heap(backend), offsetOf(backend, columns), offsetOf(backend, dx), g, first, count);
    release(backend, columns);
    if (dyChunk !== dy) release(backend, dyChunk);
  }
  release(backend, filterT);
  return dx;
}

/** col2im: adds each column entry back to the input pixel it was read from in the forward pass. */
function scatterColumns(h: Float32Array, columns: number, dx: number, g: ConvGeometry, first: number, count: number): void {
  const { inHeight: H, inWidth: W, inChannels: ci, outHeight: oh, outWidth: ow, filterHeight: kh, filterWidth: kw } = g;
  const taps = kh * kw * ci;
  let row = columns;
  for (let n = first; n < first + count; n++) {
    for (let oy = 0; oy < oh; oy++) {
      for (let ox = 0; ox < ow; ox++, row += taps) {
        for (let ky = 0; ky < kh; ky++) {
          const iy = oy * g.strideHeight - g.padTop + ky;
          if (iy < 0 || iy >= H) continue;
          for (let kx = 0; kx < kw; kx++) {
            const ix = ox * g.strideWidth - g.padLeft + kx;
            if (ix < 0 || ix >= W) continue;
            const d = dx + ((n * H + iy) * W + ix) * ci;
            const s = row + (ky * kw + kx) * ci;
            for (let c = 0; c < ci; c++) h[d + c]! += h[s + c]!;
          }
        }
      }
    }
  }
}

export const conv2dBackpropInputConfig: Omit<KernelConfig, 'backendName'> = {
  kernelName: 'Conv2DBackpropInput',
  kernelFunc: conv2dBackpropInput as unknown as KernelFunc,
};
