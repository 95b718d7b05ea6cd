/**
 * The one place that touches tfjs's global kernel and gradient registries: pul's own kernels for
 * backends that lack them (wasm has no Conv2DBackpropFilter) or whose own version is too slow to
 * train with.
 */
import { tf } from './tf.js';
import { WASM_KERNELS, WASM_KERNEL_WRAPPERS } from './kernels/wasm-kernels.js';
import { fastBatchNormGradient } from './batch-norm-gradient.js';
import { fastMeanGradient } from './mean-gradient.js';
import type { NativeKernels } from './native.js';
import { nativeConvWrappers } from './kernels/native-conv.js';
import { nativeChannelWrappers } from './kernels/native-channels.js';
import { nativeMatMulWrappers } from './kernels/native-matmul.js';
import { nativeElementwiseWrappers } from './kernels/native-elementwise.js';
import { batchNormTrainingKernels } from './kernels/batch-norm-training.js';
import { installFusedBatchNorm } from './batch-norm-training.js';
import { FUSED_CONV_ATTRS_RECORDER, markFusedConvAttrsRecorded } from './fused-conv-gradient.js';
import { softmaxCrossEntropyGradient } from './softmax-cross-entropy.js';
import { dropoutApplyGradient } from './dropout.js';

let wasmRegistered = false;

/**
 * Registers pul's kernels for the given tfjs backend name (with pul's native convolutions on top
 * when they loaded). Idempotent; returns the kernel names that pul provides (or speeds up).
 */
export function registerPulKernels(tfjsBackend: string, native: NativeKernels | null = null): string[] {
  if (tfjsBackend !== 'wasm') return [];
  const nativeWrappers = native === null ? [] : [...nativeConvWrappers(native), ...nativeChannelWrappers(native), ...nativeMatMulWrappers(native), ...nativeElementwiseWrappers(native)];
  // training-mode batch norm (+ ReLU) as one native kernel, hooked into tfjs-layers (batch-norm-training.ts)
  const nativeKernels = native === null ? [] : batchNormTrainingKernels(native);
  const names = [...new Set([...WASM_KERNELS, ...WASM_KERNEL_WRAPPERS, ...nativeWrappers, ...nativeKernels].map((k) => k.kernelName))];
  if (wasmRegistered) return names;
  for (const kernel of WASM_KERNELS) {
    if (tf.getKernel(kernel.kernelName, 'wasm') !== undefined) tf.unregisterKernel(kernel.kernelName, 'wasm');
    tf.registerKernel({ ...kernel, backendName: 'wasm' });
  }
  // Native wrappers come last: they fall back to whatever was registered before them.
  // the attributes recorder wraps whatever FusedConv2D ends up registered (see fused-conv-gradient.ts)
  for (const wrapper of [...WASM_KERNEL_WRAPPERS, ...nativeWrappers, FUSED_CONV_ATTRS_RECORDER]) {
    const original = tf.getKernel(wrapper.kernelName, 'wasm');
    if (original === undefined) continue;
    tf.unregisterKernel(wrapper.kernelName, 'wasm');
    tf.registerKernel({ ...original, kernelFunc: wrapper.wrap(original.kernelFunc) });
  }
  for (const kernel of nativeKernels) tf.registerKernel({ ...kernel, backendName: 'wasm' });
  if (nativeKernels.length > 0) installFusedBatchNorm();
  // The replacement gradients fall back to tfjs's own on every other backend.
  const batchNormGradient = tf.getGradient('FusedBatchNorm');
  if (batchNormGradient !== undefined) tf.registerGradient(fastBatchNormGradient(batchNormGradient));
  const meanGradient = tf.getGradient('Mean');
  if (meanGradient !== undefined) tf.registerGradient(fastMeanGradient(meanGradient));
  tf.registerGradient(softmaxCrossEntropyGradient);
  tf.registerGradient(dropoutApplyGradient);
  markFusedConvAttrsRecorded('wasm');
  wasmRegistered = true;
  return names;
}
