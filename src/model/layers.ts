/** Small layer helpers shared by the backbones: conv–BN–ReLU with PyTorch's BN constants. */
import { tf } from '../backend/tf.js';
import type { Rng } from '../core/random.js';
import { makeInitializer } from './initializers.js';

export type Sym = tf.SymbolicTensor;

/** PyTorch's BatchNorm defaults (momentum 0.1 there = 0.9 in Keras' convention, eps 1e-5). */
export function batchNorm(name?: string): tf.layers.Layer {
  return tf.layers.batchNormalization({ momentum: 0.9, epsilon: 1e-5, ...(name === undefined ? {} : { name }) });
}

/** 3×3 (or k×k) convolution, 'same' padding, no bias (a BN follows). */
export function conv(x: Sym, filters: number, rng: Rng, { kernel = 3, strides = 1 }: { kernel?: number; strides?: number } = {}): Sym {
  return tf.layers
    .conv2d({ filters, kernelSize: kernel, strides, padding: 'same', useBias: false, kernelInitializer: makeInitializer('he', rng) })
    .apply(x) as Sym;
}

export function convBnRelu(x: Sym, filters: number, rng: Rng, strides = 1): Sym {
  const h = batchNorm().apply(conv(x, filters, rng, { strides })) as Sym;
  return tf.layers.reLU().apply(h) as Sym;
}
