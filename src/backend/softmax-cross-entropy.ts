/**
 * The fused softmax cross-entropy (kernels/softmax-cross-entropy.ts) as an op with its gradient: one
 * kernel call forward and one backward where the op-by-op loss made ~20. Only on the wasm backend
 * with pul's kernels registered; fusedCrossEntropy returns null elsewhere (callers then go op by op).
 */
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs';
import { tf } from './tf.js';
import { SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL, SOFTMAX_CROSS_ENTROPY_KERNEL } from './kernels/softmax-cross-entropy.js';

export const softmaxCrossEntropyGradient: GradConfig = {
  kernelName: SOFTMAX_CROSS_ENTROPY_KERNEL,
  inputsToSave: ['logits', 'labels'],
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
    const [logits, labels] = saved as [Tensor, Tensor];
    return {
      logits: () => tf.engine().runKernel<Tensor>(SOFTMAX_CROSS_ENTROPY_GRAD_KERNEL, { logits, labels, dy: dy as Tensor }, attrs),
      labels: () => tf.zeros(labels.shape),
    };
  },
};

/** Mean softmax cross-entropy of float32 N×K logits in one kernel, or null where the kernel is not registered. */
export function fusedCrossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D, labelSmoothing: number): tf.Scalar | null {
  if (logits.rank !== 2 || labels.rank !== 1 || labels.shape[0] !== logits.shape[0]) return null;
  if (logits.dtype !== 'float32' || tf.getBackend() !== 'wasm' || tf.getKernel(SOFTMAX_CROSS_ENTROPY_KERNEL, 'wasm') === undefined) return null;
  if (tf.getGradient(SOFTMAX_CROSS_ENTROPY_KERNEL) === undefined) return null;
  return tf.engine().runKernel<tf.Scalar>(SOFTMAX_CROSS_ENTROPY_KERNEL, { logits, labels }, { labelSmoothing });
}
