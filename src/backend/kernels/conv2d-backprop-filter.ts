/**
 * Conv2DBackpropFilter for the wasm backend, which has none (so CNNs cannot train on it as shipped).
 *
 * dW[ky,kx,ci,co] = Σ_{n,oy,ox} x[n, oy·s+ky−top, ox·s+kx−left, ci] · dy[n,oy,ox,co], computed as one
 * GEMM: columnsᵀ [kh·kw·ci, rows] · dy [rows, co], where rows = N·oh·ow. The columns are built
 * transposed (one row per filter tap and input channel) because the backend's matmul is fast only
 * without transposes; building them from a channel-major copy of x makes each run a contiguous copy.
 */
import type { KernelConfig, KernelFunc, TensorInfo } from '@tensorflow/tfjs';
import { columnBudget } from './column-budget.js';
import { convGeometry, type ConvAttrs, type ConvGeometry } from './conv-geometry.js';
import { allocate, asWasmBackend, heap, matMul, offsetOf, release, type WasmBackend } from './wasm-heap.js';
import { transposeRowsToColumns } from './transpose.js';


interface BackpropFilterAttrs extends ConvAttrs {
  filterShape: number[];
}

function conv2dBackpropFilter(args: { inputs: { x: TensorInfo; dy: TensorInfo }; backend: unknown; attrs: BackpropFilterAttrs }): TensorInfo {
  const backend = asWasmBackend(args.backend);
  const { x, dy } = args.inputs;
  const { filterShape } = args.attrs;
  const g = convGeometry(x.shape, filterShape, args.attrs);
  const taps = g.filterHeight * g.filterWidth * g.inChannels;
  const rowsPerImage = g.outHeight * g.outWidth;
  const imagesPerChunk = Math.max(1, Math.min(g.batch, Math.floor(columnBudget() / (taps * rowsPerImage))));

  const channelMajorX = toChannelMajor(backend, x, g);
  let result: TensorInfo | null = null;
  for (let first = 0; first < g.batch; first += imagesPerChunk) {
    const count = Math.min(imagesPerChunk, g.batch - first);
    const rows = count * rowsPerImage;
    const isPointwise = g.filterHeight === 1 && g.filterWidth === 1 && g.strideHeight === 1 && g.strideWidth === 1 && g.padTop === 0 && g.padLeft === 0;
    const columns = isPointwise && count === g.batch ? channelMajorX : buildColumns(backend, channelMajorX, g, first, count);
    const dyChunk = count === g.batch ? dy : copyRows(backend, dy, first * rowsPerImage, rows, g.outChannels);
    const partial = matMul(backend, columns, taps, rows, dyChunk, g.outChannels);
    if (columns !== channelMajorX) release(backend, columns);
    if (dyChunk !== dy) release(backend, dyChunk);
    if (result === null) {
      result = partial;
    } else {
      addInto(backend, result, partial, taps * g.outChannels);
      release(backend, partial);
    }
  }
  if (channelMajorX !== x) release(backend, channelMajorX);
  if (result === null) throw new Error('Conv2DBackpropFilter: empty batch');
  // [1, kh·kw·ci, co] in row-major order is exactly the filter layout [kh, kw, ci, co].
  return { dataId: result.dataId, shape: [...filterShape], dtype: 'float32' };
}

/** x [N,H,W,ci] → [ci, N·H·W] (x itself when ci = 1). */
function toChannelMajor(backend: WasmBackend, x: TensorInfo, g: ConvGeometry): TensorInfo {
  if (g.inChannels === 1) return x;
  const pixels = g.batch * g.inHeight * g.inWidth;
  const out = allocate(backend, [g.inChannels, pixels]);
  const h = heap(backend);
  transposeRowsToColumns(h, offsetOf(backend, x), offsetOf(backend, out), pixels, g.inChannels);
  return out;
}

/** Transposed im2col for images [first, first+count): [kh·kw·ci, count·oh·ow]. */
function buildColumns(backend: WasmBackend, channelMajorX: TensorInfo, g: ConvGeometry, first: number, count: number): TensorInfo {
  const rows = count * g.outHeight * g.outWidth;
  const taps = g.filterHeight * g.filterWidth * g.inChannels;
  const columns = allocate(backend, [taps, rows]);
  const h = heap(backend);
  const src = offsetOf(backend, channelMajorX);
  const dst = offsetOf(backend, columns);
  const { inHeight: H, inWidth: W, outHeight: oh, outWidth: ow, strideHeight: sh, strideWidth: sw } = g;
  const planeSize = g.batch * H * W;
  for (let ky = 0; ky < g.filterHeight; ky++) {
    for (let kx = 0; kx < g.filterWidth; kx++) {
      const ix0 = kx - g.padLeft;
      // ox range whose input column ox·sw + ix0 lies inside [0, W)
      const oxStart = Math.min(ow, Math.max(0, Math.ceil(-ix0 / sw)));
      const oxEnd = Math.max(oxStart, Math.min(ow, Math.floor((W - 1 - ix0) / sw) + 1));
      for (let c = 0; c < g.inChannels; c++) {
        const tap = (ky * g.filterWidth + kx) * g.inChannels + c;
        let d = dst + tap * rows;
        for (let n = first; n < first + count; n++) {
          for (let oy = 0; oy < oh; oy++, d += ow) {
            const iy = oy * sh - g.padTop + ky;
            if (iy < 0 || iy >= H) {
              h.fill(0, d, d + ow);
              continue;
            }
            const s = src + c * planeSize + (n * H + iy) * W + ix0;
            for (let ox = 0; ox < oxStart; ox++) h[d + ox] = 0;
            if (sw === 1) {
              for (let ox = oxStart; ox < oxEnd; ox++) h[d + ox] = h[s + ox]!;
            } else {
              for (let ox = oxStart; ox < oxEnd; ox++) h[d + ox] = h[s + ox * sw]!;
            }
            for (let ox = oxEnd; ox < ow; ox++) h[d + ox] = 0;
          }
        }
      }
    }
  }
  return columns;
}

function copyRows(backend: WasmBackend, t: TensorInfo, firstRow: number, rows: number, width: number): TensorInfo {
  const out = allocate(backend, [rows, width]);
  const h = heap(backend);
  const s = offsetOf(backend, t) + firstRow * width;
  h.copyWithin(offsetOf(backend, out), s, s + rows * width);
  return out;
}

function addInto(backend: WasmBackend, target: TensorInfo, addend: TensorInfo, size: number): void {
  const h = heap(backend);
  const t = offsetOf(backend, target);
  const a = offsetOf(backend, addend);
  for (let i = 0; i < size; i++) h[t + i]! += h[a + i]!;
}

export const conv2dBackpropFilterConfig: Omit<KernelConfig, 'backendName'> = {
  kernelName: 'Conv2DBackpropFilter',
  kernelFunc: conv2dBackpropFilter as unknown as KernelFunc,
};
