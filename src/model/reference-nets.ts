/**
 * The SmallCNN backbones of ../shared/peers/train_ref.py, layer for layer, so that speed and accuracy
 * compare with PyTorch on identical architectures: conv 32 – BN – ReLU – pool, conv 64 – BN – ReLU –
 * pool, conv 128 – BN – ReLU (reid adds conv 256 stride 2 – BN – ReLU); the head (GAP, embedding…)
 * is added by build-model.ts.
 */
import { tf } from '../backend/tf.js';
import type { Rng } from '../core/random.js';
import { convBnRelu, type Sym } from './layers.js';

export type ReferenceNetName = 'fmnist' | 'reid';

/** Stages as [filters, stride, max-pool after]. */
const STAGES = {
  fmnist: [[32, 1, true], [64, 1, true], [128, 1, false]],
  reid: [[32, 1, true], [64, 1, true], [128, 1, false], [256, 2, false]],
} as const satisfies Record<ReferenceNetName, readonly (readonly [number, number, boolean])[]>;

/** Applies the reference net's convolutional stages to `input`; returns the last feature map. */
export function referenceBackbone(name: ReferenceNetName, input: Sym, rng: Rng): Sym {
  let h = input;
  for (const [filters, stride, pool] of STAGES[name]) {
    h = convBnRelu(h, filters, rng, stride);
    if (pool) h = tf.layers.maxPooling2d({ poolSize: 2 }).apply(h) as Sym;
  }
  return h;
}
