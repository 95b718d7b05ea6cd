/**
 * pul's kernels for the wasm backend, one file per kernel. register-kernels.ts installs them.
 */
import type { KernelConfig } from '@tensorflow/tfjs';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { batchNormGradConfig } from './batch-norm-grad.js';

export const WASM_KERNELS: readonly Omit<KernelConfig, 'backendName'>[] = [
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  maxPoolGradConfig,
  batchNormGradConfig,
];
