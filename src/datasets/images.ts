/**
 * Image decoding (sharp) for every sample path: JPEG/PNG/WebP files and IDX entries (`file#index`),
 * resized to H×W, converted to 1 or 3 channels and normalised into a Float32Array in HWC order.
 * No tfjs here: the training and feature code turn the arrays into tensors.
 */
import { readFile } from 'node:fs/promises';
import { totalmem } from 'node:os';
import type Sharp from 'sharp';
import { lazyRequire } from '../core/lazy-require.js';
import { PulError } from '../core/errors.js';
import { readIdx, type IdxArray } from './idx-file.js';
import { parseIdxRef } from './sample.js';

const sharp = lazyRequire<typeof Sharp>('sharp');

/** ImageNet channel statistics (RGB, of x/255), the usual normalisation of re-ID backbones. */
export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
/** Per-channel std of ImageNet (RGB, of x/255). */
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];

/**
 * How to turn bytes into floats: `imagenet` = (x/255 − mean)/std per RGB channel, `unit` = x/255,
 * or explicit per-channel mean/std of x/255 (one value is repeated over channels).
 */
export type Normalization = 'imagenet' | 'unit' | { readonly mean: readonly number[]; readonly std: readonly number[] };

/** The decoded image size and layout: H×W×C, C = 1 (grey) or 3 (RGB). */
export interface ImageSpec {
  readonly height: number;
  readonly width: number;
  readonly channels: 1 | 3;
  /** Default: `imagenet` for 3 channels, `unit` for 1. */
  readonly normalize?: Normalization;
}


/**
 * The decoded-image cache an ImageReader keeps by default: 1/8 of the machine's memory, at most 512 MiB.
 * Decoded bytes (1 per pixel and channel, before normalisation) of Market-1501's 12 936 training images
 * at 128×64×3 take 318 MB; a 2 000-image 28×28 grey set 1.6 MB.
 */
export function defaultImageCacheBytes(): number {
  return Math.min(512 * 2 ** 20, Math.floor(totalmem() / 8));
}

/**
 * Decodes sample paths. Holds the decoded IDX files it has read (they are small: Fashion-MNIST's
 * 60 000 images are 47 MB of bytes) and, up to a memory bound, the decoded pixels of ordinary image
 * files, so a set read every epoch (training, per-round extraction) is decoded once.
 * Create one per dataset (or share one) and keep it across epochs.
 *
 * @example
 * ```ts
 * const reader = new ImageReader();
 * const px = await reader.read('q/0001_c1s1_000151_01.jpg', { height: 128, width: 64, channels: 3 }); // 128·64·3 floats
 * ```
 */
export class ImageReader {
  private readonly idxFiles = new Map<string, Promise<IdxArray>>();
  private readonly decoded = new Map<string, Uint8Array>();
  private readonly cacheBytes: number;
  private cachedBytes = 0;

  /**
   * @param options.cacheBytes keep decoded (resized, not augmented) image bytes up to this many
   *   bytes, first come first kept (default {@link defaultImageCacheBytes}); 0 caches nothing.
   *   Images past the bound are decoded on every read, as without a cache.
   */
  constructor(options: { readonly cacheBytes?: number } = {}) {
    this.cacheBytes = options.cacheBytes ?? defaultImageCacheBytes();
  }

  /** Decodes one image to H×W×C bytes (resized, channel-converted, not normalised). */
  async readBytes(path: string, spec: ImageSpec): Promise<Uint8Array> {
    const ref = parseIdxRef(path);
    if (ref) return this.readIdxImage(ref.file, ref.index, spec);
    const key = `${spec.height}x${spec.width}x${spec.channels}:${path}`;
    const hit = this.decoded.get(key);
    if (hit) return hit;
    const bytes = await this.decodeFile(path, spec);
    if (this.cachedBytes + bytes.length <= this.cacheBytes) {
      this.decoded.set(key, bytes);
      this.cachedBytes += bytes.length;
    }
    return bytes;
  }

  private async decodeFile(path: string, spec: ImageSpec): Promise<Uint8Array> {
    let file: Buffer;
    try {
      file = await readFile(path);
    } catch (err) {
      throw new PulError('dataset.unreadable', `cannot read image ${path}: ${(err as Error).message}`, { file: path }, { cause: err });
    }
    return decodeImageBytes(file, path, spec);
  }

  /** Decodes one image to normalised floats, H×W×C, written into `out` at `offset` (or a new array). */
  async read(path: string, spec: ImageSpec, out?: Float32Array, offset = 0): Promise<Float32Array> {
    const bytes = await this.readBytes(path, spec);
    const target = out ?? new Float32Array(bytes.length);
    normalizeInto(bytes, spec, target, offset);
    return target;
  }

  /** The raw size of an image without decoding its pixels (IDX: from the header). */
  async size(path: string): Promise<{ readonly width: number; readonly height: number; readonly channels: number }> {
    const ref = parseIdxRef(path);
    if (ref) {
      const idx = await this.idx(ref.file);
      return { height: idx.dims[1] ?? 1, width: idx.dims[2] ?? 1, channels: 1 };
    }
    try {
      const meta = await sharp()(path).metadata();
      return { width: meta.width, height: meta.height, channels: meta.channels };
    } catch (err) {
      throw new PulError('image.corrupt', `cannot read the header of ${path}: ${(err as Error).message}`, { file: path }, { cause: err });
    }
  }

  /** The decoded IDX file (read once, then shared). */
  idx(file: string): Promise<IdxArray> {
    let entry = this.idxFiles.get(file);
    if (!entry) {
      entry = readIdx(file);
      this.idxFiles.set(file, entry);
      entry.catch(() => this.idxFiles.delete(file));
    }
    return entry;
  }

  private async readIdxImage(file: string, index: number, spec: ImageSpec): Promise<Uint8Array> {
    const idx = await this.idx(file);
    const [n = 0, h = 1, w = 1] = idx.dims;
    if (idx.dims.length !== 3 || index >= n) {
      throw new PulError('idx.malformed', `${file}#${index}: the file holds ${n} images of [${idx.dims.slice(1).join('×')}]`, { file });
    }
    const grey = idx.data.subarray(index * h * w, (index + 1) * h * w);
    if (h === spec.height && w === spec.width && spec.channels === 1) return grey;
    if (h === spec.height && w === spec.width) return greyToRgb(grey);
    // tiny grey images: a JS bilinear resize is several times faster than a sharp round trip
    const data = resizeBilinearGrey(grey, h, w, spec.height, spec.width);
    return spec.channels === 1 ? data : greyToRgb(data);
  }
}

/** Decodes an encoded image (JPEG/PNG/WebP/…) to H×W×C bytes; `name` is only for messages. */
export async function decodeImageBytes(file: Uint8Array, name: string, spec: ImageSpec): Promise<Uint8Array> {
  try {
    let pipeline = sharp()(file, { failOn: 'truncated' }).resize(spec.width, spec.height, { fit: 'fill' }).removeAlpha();
    pipeline = spec.channels === 1 ? pipeline.greyscale() : pipeline.toColourspace('srgb');
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    if (info.channels === spec.channels) return data;
    if (info.channels === 1 && spec.channels === 3) return greyToRgb(data);
    throw new Error(`decoded ${info.channels} channels, expected ${spec.channels}`);
  } catch (err) {
    throw new PulError('image.corrupt', `${name} is not a readable image (${(err as Error).message})`, { file: name }, { cause: err });
  }
}

/** x/255 then (x − mean)/std per channel, written into out[offset…]. */
export function normalizeInto(bytes: Uint8Array, spec: ImageSpec, out: Float32Array, offset: number): void {
  const { mean, std } = normalizationStats(spec);
  const c = spec.channels;
  const scale = new Float32Array(c);
  const shift = new Float32Array(c);
  for (let k = 0; k < c; k++) {
    scale[k] = 1 / 255 / std[k]!;
    shift[k] = -mean[k]! / std[k]!;
  }
  for (let i = 0; i < bytes.length; i++) {
    const k = i % c;
    out[offset + i] = bytes[i]! * scale[k]! + shift[k]!;
  }
}

/** The normalisation used when none is given: ImageNet statistics for RGB, x/255 as is for grey. */
export function defaultNormalization(channels: number): Normalization {
  return channels === 3 ? 'imagenet' : 'unit';
}

/** Per-channel mean and std (of x/255) of the spec's normalisation (default: {@link defaultNormalization}). */
export function normalizationStats(spec: ImageSpec): { readonly mean: readonly number[]; readonly std: readonly number[] } {
  const norm = spec.normalize ?? defaultNormalization(spec.channels);
  const expand = (v: readonly number[]): number[] => Array.from({ length: spec.channels }, (_, k) => v[Math.min(k, v.length - 1)] ?? 0);
  if (norm === 'unit') return { mean: expand([0]), std: expand([1]) };
  if (norm === 'imagenet') {
    if (spec.channels !== 3) return { mean: expand([0.449]), std: expand([0.226]) };
    return { mean: IMAGENET_MEAN, std: IMAGENET_STD };
  }
  return { mean: expand(norm.mean), std: expand(norm.std) };
}

/** Bilinear resize of a grey H×W image (pixel centres aligned, as torch's align_corners=False). */
export function resizeBilinearGrey(src: Uint8Array, h: number, w: number, oh: number, ow: number): Uint8Array {
  const out = new Uint8Array(oh * ow);
  for (let y = 0; y < oh; y++) {
    const sy = Math.min(Math.max(((y + 0.5) * h) / oh - 0.5, 0), h - 1);
    const y0 = Math.floor(sy);
    const y1 = Math.min(y0 + 1, h - 1);
    const fy = sy - y0;
    for (let x = 0; x < ow; x++) {
      const sx = Math.min(Math.max(((x + 0.5) * w) / ow - 0.5, 0), w - 1);
      const x0 = Math.floor(sx);
      const x1 = Math.min(x0 + 1, w - 1);
      const fx = sx - x0;
      const top = src[y0 * w + x0]! + (src[y0 * w + x1]! - src[y0 * w + x0]!) * fx;
      const bottom = src[y1 * w + x0]! + (src[y1 * w + x1]! - src[y1 * w + x0]!) * fx;
      out[y * ow + x] = Math.round(top + (bottom - top) * fy);
    }
  }
  return out;
}

function greyToRgb(grey: Uint8Array): Uint8Array {
  const out = new Uint8Array(grey.length * 3);
  for (let i = 0; i < grey.length; i++) {
    const v = grey[i]!;
    out[3 * i] = v;
    out[3 * i + 1] = v;
    out[3 * i + 2] = v;
  }
  return out;
}
