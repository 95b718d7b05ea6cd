/**
 * ResNet with basic blocks (He et al. 2016): ResNet-18 (2-2-2-2 blocks) and ResNet-34 (3-4-6-3), with a
 * width multiplier and a configurable stride of the last stage (1 = the re-ID "last stride" trick of
 * Luo et al. 2019, which doubles the final feature map). Small inputs (≤ 64 px high) use a 3×3 stem
 * without max-pool so 28×28 images keep spatial detail; larger ones the usual 7×7/2 stem + pool.
 */
import { tf } from '../backend/tf.js';
import type { Rng } from '../core/random.js';
import { batchNorm, conv, type Sym } from './layers.js';

export type ResNetDepth = 18 | 34;

export interface ResNetOptions {
  readonly depth: ResNetDepth;
  /** Channels = round(64·2^stage · width); default 1. */
  readonly width?: number;
  /** Stride of the last stage, 1 or 2; default 2. */
  readonly lastStride?: 1 | 2;
}

const BLOCKS: Record<ResNetDepth, readonly number[]> = { 18: [2, 2, 2, 2], 34: [3, 4, 6, 3] };

function basicBlock(x: Sym, filters: number, strides: number, rng: Rng): Sym {
  const inChannels = x.shape[x.shape.length - 1];
  let h = conv(x, filters, rng, { strides });
  h = tf.layers.reLU().apply(batchNorm().apply(h)) as Sym;
  h = batchNorm().apply(conv(h, filters, rng)) as Sym;
  let shortcut = x;
  if (strides !== 1 || inChannels !== filters) {
    shortcut = batchNorm().apply(conv(x, filters, rng, { kernel: 1, strides })) as Sym;
  }
  return tf.layers.reLU().apply(tf.layers.add().apply([h, shortcut])) as Sym;
}

/** Applies a ResNet backbone to `input` (N×H×W×C); returns the last feature map. */
export function resnetBackbone(input: Sym, opts: ResNetOptions, rng: Rng): Sym {
  const width = opts.width ?? 1;
  const height = input.shape[1] ?? 0;
  const small = height <= 64;
  const stem = Math.max(8, Math.round(64 * width));
  let h = conv(input, stem, rng, small ? {} : { kernel: 7, strides: 2 });
  h = tf.layers.reLU().apply(batchNorm().apply(h)) as Sym;
  if (!small) h = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same' }).apply(h) as Sym;
  BLOCKS[opts.depth].forEach((count, stage) => {
    const filters = Math.max(8, Math.round(64 * 2 ** stage * width));
    const stageStride = stage === 0 ? 1 : stage === 3 ? (opts.lastStride ?? 2) : 2;
    for (let b = 0; b < count; b++) h = basicBlock(h, filters, b === 0 ? stageStride : 1, rng);
  });
  return h;
}
