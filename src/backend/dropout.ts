/**
 * Seeded dropout as one kernel call forward and one backward on the wasm backend (kernels/dropout-apply.ts):
 * the same uniform draws as tf.dropout (tf.randomUniform with the seed) and the same bits; tf.dropout elsewhere.
 */
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs';
import { tf } from './tf.js';
import { DROPOUT_APPLY_KERNEL } from './kernels/dropout-apply.js';

export const dropoutApplyGradient: GradConfig = {
  kernelName: DROPOUT_APPLY_KERNEL,
  inputsToSave: ['u'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [u] = saved as [Tensor];
    return {
      x: () => tf.engine().runKernel<Tensor>(DROPOUT_APPLY_KERNEL, { x: dy as Tensor, u }, attrs),
      u: () => tf.zeros(u.shape),
    };
  },
};

/** tf.dropout(x, rate, undefined, seed) of a float32 tensor, fused on wasm. */
export function seededDropout<T extends tf.Tensor>(x: T, rate: number, seed: number): T {
  const fused = x.dtype === 'float32' && rate > 0 && tf.getBackend() === 'wasm' && tf.getKernel(DROPOUT_APPLY_KERNEL, 'wasm') !== undefined && tf.getGradient(DROPOUT_APPLY_KERNEL) !== undefined;
  if (!fused) return tf.dropout(x, rate, undefined, seed) as T;
  return tf.tidy(() => {
    const u = tf.randomUniform(x.shape, 0, 1, 'float32', seed);
    return tf.engine().runKernel<T>(DROPOUT_APPLY_KERNEL, { x, u }, { keep: 1 - rate });
  });
}
