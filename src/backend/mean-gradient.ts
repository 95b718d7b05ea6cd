/**
 * The gradient of Mean over every axis but the last (batch-norm moments), replaced on the wasm backend
 * by one write pass (kernels/broadcast-channels.ts), and over every axis but the first and the last
 * (global average pooling: kernels/spread-mean.ts); other cases keep tfjs's own.
 */
import type { GradConfig, NamedAttrMap, Tensor } from '@tensorflow/tfjs';
import { tf } from './tf.js';
import { BROADCAST_CHANNELS_KERNEL } from './kernels/broadcast-channels.js';
import { reducesLeadingAxes, reducesMiddleAxes } from './kernels/reduce-leading-axes.js';
import { SPREAD_MEAN_KERNEL } from './kernels/spread-mean.js';

export function fastMeanGradient(original: GradConfig): GradConfig {
  return {
    ...original,
    gradFunc: (dy: Tensor | Tensor[], saved: Tensor[], attrs: NamedAttrMap) => {
      const [x] = saved as [Tensor];
      if (tf.getBackend() === 'wasm' && !Array.isArray(dy) && x.dtype === 'float32' && reducesMiddleAxes(x.rank, attrs['axis'])) {
        const size = x.size / ((x.shape[0] ?? 1) * (x.shape.at(-1) ?? 1));
        return { x: () => tf.engine().runKernel<Tensor>(SPREAD_MEAN_KERNEL, { dy }, { shape: x.shape, size }) };
      }
      if (tf.getBackend() !== 'wasm' || Array.isArray(dy) || x.dtype !== 'float32' || !reducesLeadingAxes(x.rank, attrs['axis'])) {
        return original.gradFunc(dy, saved, attrs);
      }
      const channels = x.shape.at(-1) ?? 1;
      const scale = channels / x.size;
      return { x: () => tf.engine().runKernel<Tensor>(BROADCAST_CHANNELS_KERNEL, { v: dy }, { shape: x.shape, scale }) };
    },
  };
}
