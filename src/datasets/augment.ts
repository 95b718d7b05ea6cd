/**
 * Seeded data augmentation on one normalised H×W×C float image (HWC, row-major), in place.
 * Every random draw comes from the Rng passed in, so a seed repeats the exact same images.
 */
import { PulError } from '../core/errors.js';
import type { Rng } from '../core/random.js';

/** Which augmentations to apply, in this order: affine (rotation/shift), flip, pad+crop, erasing. */
export interface AugmentOptions {
  /** Horizontal flip with probability 0.5. */
  readonly flip?: boolean;
  /** Zero-pad (the normalised mean) by this many pixels on each side, then crop H×W at random. */
  readonly padCrop?: number;
  /** Random erasing probability (Zhong et al. 2020: area 2–40 %, aspect 0.3–3.3, random values). */
  readonly erasing?: number;
  /** Random rotation in ±degrees about the centre (bilinear, edge pixels repeated). */
  readonly rotation?: number;
  /** Random shift in ±fraction of width and of height (with the rotation; edge pixels repeated). */
  readonly shift?: number;
}

/** The original PUL code's Keras ImageDataGenerator: rotation_range=20, shifts 0.2, fill 'nearest'. */
export const PUL_KERAS_AUGMENT: AugmentOptions = Object.freeze({ rotation: 20, shift: 0.2 });

/** The common re-ID recipe (torchreid / fast-reid): flip, pad 10 + random crop, random erasing 0.5. */
export const REID_AUGMENT: AugmentOptions = Object.freeze({ flip: true, padCrop: 10, erasing: 0.5 });

/** The named augmentation recipes of the config (training.augment) and `pul train --augment`. */
export const AUGMENTS = {
  none: undefined,
  pul: PUL_KERAS_AUGMENT,
  reid: REID_AUGMENT,
} as const satisfies Record<string, AugmentOptions | undefined>;

/** A name of {@link AUGMENTS}. */
export type AugmentName = keyof typeof AUGMENTS;
/** The names of AUGMENTS, for choices and schemas. */
export const AUGMENT_NAMES = Object.keys(AUGMENTS) as AugmentName[];

/** Throws option.outOfRange for nonsensical augmentation values. */
export function validateAugment(opts: AugmentOptions): void {
  const check = (name: keyof AugmentOptions, value: number | undefined, lo: number, hi: number): void => {
    if (value !== undefined && !(value >= lo && value <= hi)) {
      throw new PulError('option.outOfRange', `augment.${name}=${value} is outside [${lo}, ${hi}]`, { option: `augment.${name}` });
    }
  };
  check('padCrop', opts.padCrop, 0, 1000);
  check('erasing', opts.erasing, 0, 1);
  check('rotation', opts.rotation, 0, 180);
  check('shift', opts.shift, 0, 1);
}

/**
 * Augments `img` (H×W×C floats at `offset` of `data`) in place. `scratch` must hold H×W×C floats;
 * pass one per iterator to avoid allocations.
 *
 * @example
 * ```ts
 * augmentImage(pixels, 0, [128, 64, 3], REID_AUGMENT, new Rng(1), new Float32Array(128 * 64 * 3));
 * ```
 */
export function augmentImage(
  data: Float32Array,
  offset: number,
  shape: readonly [number, number, number],
  opts: AugmentOptions,
  rng: Rng,
  scratch: Float32Array,
): void {
  const [h, w, c] = shape;
  const img = data.subarray(offset, offset + h * w * c);
  if ((opts.rotation ?? 0) > 0 || (opts.shift ?? 0) > 0) {
    const angle = ((rng.uniform(-1, 1) * (opts.rotation ?? 0)) * Math.PI) / 180;
    const tx = rng.uniform(-1, 1) * (opts.shift ?? 0) * w;
    const ty = rng.uniform(-1, 1) * (opts.shift ?? 0) * h;
    affineEdge(img, h, w, c, angle, tx, ty, scratch);
  }
  if (opts.flip && rng.next() < 0.5) flipHorizontal(img, h, w, c);
  if ((opts.padCrop ?? 0) > 0) {
    const pad = opts.padCrop ?? 0;
    padCrop(img, h, w, c, rng.int(2 * pad + 1) - pad, rng.int(2 * pad + 1) - pad, scratch);
  }
  if ((opts.erasing ?? 0) > 0 && rng.next() < (opts.erasing ?? 0)) randomErase(img, h, w, c, rng);
}

/** Mirrors each row. */
export function flipHorizontal(img: Float32Array, h: number, w: number, c: number): void {
  for (let y = 0; y < h; y++) {
    const row = y * w * c;
    for (let x = 0; x < w >> 1; x++) {
      const a = row + x * c;
      const b = row + (w - 1 - x) * c;
      for (let k = 0; k < c; k++) {
        const t = img[a + k]!;
        img[a + k] = img[b + k]!;
        img[b + k] = t;
      }
    }
  }
}

/** Moves the content by (dy, dx) pixels, filling the uncovered border with 0 (= pad then crop). */
export function padCrop(img: Float32Array, h: number, w: number, c: number, dy: number, dx: number, scratch: Float32Array): void {
  const out = scratch.subarray(0, h * w * c);
  out.fill(0);
  for (let y = 0; y < h; y++) {
    const sy = y - dy;
    if (sy < 0 || sy >= h) continue;
    const x0 = Math.max(0, dx);
    const x1 = Math.min(w, w + dx);
    if (x1 <= x0) continue;
    out.set(img.subarray((sy * w + x0 - dx) * c, (sy * w + x1 - dx) * c), (y * w + x0) * c);
  }
  img.set(out);
}

/**
 * Rotates by `angle` radians about the centre and shifts by (tx, ty) pixels; bilinear sampling with
 * coordinates clamped to the border (Keras fill_mode='nearest', torch padding_mode='border').
 */
export function affineEdge(img: Float32Array, h: number, w: number, c: number, angle: number, tx: number, ty: number, scratch: Float32Array): void {
  const out = scratch.subarray(0, h * w * c);
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      // inverse map: output (x, y) samples the input at R⁻¹((x, y) − centre − t) + centre
      const px = x - cx - tx;
      const py = y - cy - ty;
      let sx = cos * px + sin * py + cx;
      let sy = -sin * px + cos * py + cy;
      sx = sx < 0 ? 0 : sx > w - 1 ? w - 1 : sx;
      sy = sy < 0 ? 0 : sy > h - 1 ? h - 1 : sy;
      const x0 = Math.floor(sx);
      const y0 = Math.floor(sy);
      const x1 = Math.min(x0 + 1, w - 1);
      const y1 = Math.min(y0 + 1, h - 1);
      const fx = sx - x0;
      const fy = sy - y0;
      const o = (y * w + x) * c;
      const a = (y0 * w + x0) * c;
      const b = (y0 * w + x1) * c;
      const d = (y1 * w + x0) * c;
      const e = (y1 * w + x1) * c;
      for (let k = 0; k < c; k++) {
        const top = img[a + k]! + (img[b + k]! - img[a + k]!) * fx;
        const bottom = img[d + k]! + (img[e + k]! - img[d + k]!) * fx;
        out[o + k] = top + (bottom - top) * fy;
      }
    }
  }
  img.set(out);
}

/** Random erasing (Zhong et al., AAAI 2020): one rectangle of 2–40 % of the area, aspect 0.3–3.3, filled with N(0, 1) noise. */
export function randomErase(img: Float32Array, h: number, w: number, c: number, rng: Rng): void {
  for (let attempt = 0; attempt < 100; attempt++) {
    const area = rng.uniform(0.02, 0.4) * h * w;
    const aspect = Math.exp(rng.uniform(Math.log(0.3), Math.log(1 / 0.3)));
    const eh = Math.round(Math.sqrt(area * aspect));
    const ew = Math.round(Math.sqrt(area / aspect));
    if (eh < 1 || ew < 1 || eh >= h || ew >= w) continue;
    const y0 = rng.int(h - eh + 1);
    const x0 = rng.int(w - ew + 1);
    for (let y = y0; y < y0 + eh; y++) {
      for (let i = (y * w + x0) * c; i < (y * w + x0 + ew) * c; i++) img[i] = rng.normal();
    }
    return;
  }
}
