/**
 * The gradient of tfjs's fused conv2d op (tf.fused.conv2d, which tfjs-layers' Conv2D calls) without
 * computing gradients nobody asked for. tfjs records that op as a custom gradient that computes dx and
 * dfilter together as soon as the backward pass reaches it — also for the first convolution, whose input
 * is the image, so its dx (a whole convolution) is thrown away (~5 % of a reid step). This gradient
 * returns closures instead, and the engine calls only those of inputs that lead to the variables; the
 * ones it calls are tfjs's own (same kernels, same arguments, so the same bits).
 *
 * The engine looks a custom gradient up by the op's scope name, and hands it no attributes: strides and
 * padding are recorded by the backend's FusedConv2D kernel (FUSED_CONV_ATTRS_RECORDER, installed on wasm
 * by register-kernels.ts), keyed by its output. Having no fallback without them, the gradient is
 * registered only around a step pul runs itself on such a backend (withLazyConvInputGradient).
 */
import type { GradConfig, KernelFunc, Tensor } from '@tensorflow/tfjs';
import { tf } from './tf.js';

/** tfjs-core's op() scope name for tf.fused.conv2d (ops/fused/conv2d.ts, '__op' suffix of operation.ts). */
export const FUSED_CONV_SCOPE = 'fusedConv2d__op';

interface ConvAttrs {
  readonly strides: number | [number, number];
  readonly pad: 'valid' | 'same' | number;
  readonly dilations: number | [number, number] | undefined;
}

/** FusedConv2D outputs (their data) → the attributes they were computed with. */
const forwardAttrs = new WeakMap<object, ConvAttrs>();
const recording = new Set<string>();

/** Wraps a backend's FusedConv2D so that each output's attributes are known to the gradient below. */
export const FUSED_CONV_ATTRS_RECORDER = {
  kernelName: 'FusedConv2D',
  wrap:
    (original: KernelFunc): KernelFunc =>
    (args) => {
      const out = original(args);
      const attrs = args.attrs as unknown as ConvAttrs;
      for (const o of Array.isArray(out) ? out : [out]) forwardAttrs.set(o.dataId, { strides: attrs.strides, pad: attrs.pad, dilations: attrs.dilations });
      return out;
    },
};

/** register-kernels.ts calls this once it has installed the recorder on `backendName`. */
export function markFusedConvAttrsRecorded(backendName: string): void {
  recording.add(backendName);
}

const dilationOne = (d: number | [number, number] | undefined) => d === undefined || (Array.isArray(d) ? d.every((v) => v === 1) : d === 1);

const lazyGradient: GradConfig = {
  kernelName: FUSED_CONV_SCOPE,
  gradFunc: (dy: Tensor | Tensor[], saved: Tensor[]) => {
    // saved as tfjs's fusedConv2d_ saves them: [filter, x4D, y] (+ bias); in a taped (gradient) pass the
    // op fuses only a linear activation, so dy is the activation's gradient as it stands
    const [filter, x4D, y, bias] = saved as [tf.Tensor4D, tf.Tensor4D, Tensor, Tensor | undefined];
    const attrs = forwardAttrs.get(y.dataId);
    if (attrs === undefined || Array.isArray(dy)) throw new Error('fused conv2d gradient: the forward pass did not record its attributes');
    if (!dilationOne(attrs.dilations)) throw new Error('Error in gradient of fused conv2D: dilation rates greater than 1 are not yet supported in gradients.');
    const dy4D = dy as tf.Tensor4D;
    const grads: Record<string, () => Tensor> = {
      0: () => tf.conv2dTranspose(dy4D, filter, x4D.shape, attrs.strides, attrs.pad),
      1: () =>
        tf.engine().runKernel('Conv2DBackpropFilter', { x: x4D, dy: dy4D }, { strides: attrs.strides, pad: attrs.pad, dataFormat: 'NHWC', filterShape: filter.shape }),
    };
    if (bias !== undefined) {
      grads[2] = () => {
        const axes = tf.broadcast_util.getReductionAxes(bias.shape, dy4D.shape);
        return tf.reshape(axes.length > 0 ? tf.sum(dy4D, axes) : dy4D, bias.shape);
      };
    }
    return grads;
  },
};

/**
 * Runs `f` (a forward and backward pass, e.g. tf.variableGrads) with the fused convolutions' lazy
 * gradient when the active backend records their attributes; otherwise just runs `f`.
 */
export function withLazyConvInputGradient<T>(f: () => T): T {
  if (!recording.has(tf.getBackend()) || tf.getGradient(FUSED_CONV_SCOPE) !== undefined) return f();
  tf.registerGradient(lazyGradient);
  try {
    return f();
  } finally {
    tf.unregisterGradient(FUSED_CONV_SCOPE);
  }
}
