/**
 * The gradient of FusedBatchNorm, replaced on the wasm backend by pul's one-pass kernel
 * (kernels/batch-norm-grad.ts); other backends, and shapes the kernel does not cover, keep tfjs's own.
 */
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs';
import { tf } from './tf.js';
import { BATCH_NORM_GRAD_KERNEL } from './kernels/batch-norm-grad.js';

export function fastBatchNormGradient(original: GradConfig): GradConfig {
  return {
    ...original,
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const [x, mean, variance, scale] = saved as [Tensor, Tensor, Tensor, Tensor | undefined];
      const perChannel = mean.rank === 1 && variance.rank === 1 && (scale === undefined || scale.rank === 1) && x.shape.at(-1) === mean.shape[0];
      if (tf.getBackend() !== 'wasm' || !perChannel || Array.isArray(dy)) return original.gradFunc(dy, saved, attrs);
      // Run once, eagerly: the engine calls each closure below in its own tidy scope, which would
      // dispose the other outputs of a lazily run kernel. The backward pass's scope disposes unused ones.
      const outputs = tf.engine().runKernel<Tensor[]>(BATCH_NORM_GRAD_KERNEL, { x, dy, mean, variance, ...(scale ? { scale } : {}) }, attrs);
      const take = (i: number) => () => outputs[i] as Tensor;
      return { x: take(0), mean: take(1), variance: take(2), scale: take(3), offset: take(4) };
    },
  };
}
