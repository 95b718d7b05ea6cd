/**
 * The one place that touches tfjs's global kernel registry: pul's own kernels for backends that lack
 * them (wasm has no Conv2DBackpropFilter) or whose own version is too slow to train with.
 */
import { tf } from './tf.js';
import { WASM_KERNELS } from './kernels/wasm-kernels.js';
import { fastBatchNormGradient } from './batch-norm-gradient.js';

const registered = new Set<string>();

/**
 * Registers pul's kernels for the given tfjs backend name. Idempotent; returns the kernel names that
 * pul provides for that backend.
 */
export function registerPulKernels(tfjsBackend: string): string[] {
  if (tfjsBackend !== 'wasm') return [];
  if (!registered.has('gradient/FusedBatchNorm')) {
    // The replacement falls back to tfjs's own gradient on every other backend.
    const original = tf.getGradient('FusedBatchNorm');
    if (original !== undefined) tf.registerGradient(fastBatchNormGradient(original));
    registered.add('gradient/FusedBatchNorm');
  }
  for (const kernel of WASM_KERNELS) {
    const key = `${kernel.kernelName}/wasm`;
    if (registered.has(key)) continue;
    // Replace the backend's own kernel where it has one (kept only when it is faster for training).
    if (tf.getKernel(kernel.kernelName, 'wasm') !== undefined) tf.unregisterKernel(kernel.kernelName, 'wasm');
    tf.registerKernel({ ...kernel, backendName: 'wasm' });
    registered.add(key);
  }
  return WASM_KERNELS.map((k) => k.kernelName);
}
