/**
 * pul's kernels for the wasm backend, one file per kernel. register-kernels.ts installs them.
 */
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs';
import { conv2dBackpropFilterConfig } from './conv2d-backprop-filter.js';
import { conv2dBackpropInputConfig } from './conv2d-backprop-input.js';
import { maxPoolGradConfig } from './max-pool-grad.js';
import { batchNormGradConfig } from './batch-norm-grad.js';
import { meanWrapper, sumWrapper } from './reduce-leading-axes.js';
import { broadcastChannelsConfig } from './broadcast-channels.js';
import { castWrapper, identityWrapper } from './share-data.js';
import { sgdMomentumConfig } from './sgd-momentum.js';
import { spreadMeanConfig } from './spread-mean.js';
import { broadcastBinaryWrappers } from './broadcast-binary.js';
import { exactUnaryWrappers } from './exact-unary.js';
import { dropoutApplyConfig } from './dropout-apply.js';
import { softmaxCrossEntropyConfig, softmaxCrossEntropyGradConfig } from './softmax-cross-entropy.js';

/** Kernels pul provides outright (missing from the backend, or replacing a slow one). */
export const WASM_KERNELS: readonly Omit<KernelConfig, 'backendName'>[] = [
  conv2dBackpropFilterConfig,
  conv2dBackpropInputConfig,
  maxPoolGradConfig,
  batchNormGradConfig,
  broadcastChannelsConfig,
  sgdMomentumConfig,
  spreadMeanConfig,
  softmaxCrossEntropyConfig,
  softmaxCrossEntropyGradConfig,
  dropoutApplyConfig,
];

/** Kernels pul speeds up for some inputs, handing the rest to the backend's own kernel. */
export const WASM_KERNEL_WRAPPERS: readonly { readonly kernelName: string; wrap(original: KernelFunc): KernelFunc }[] = [
  sumWrapper,
  meanWrapper,
  identityWrapper,
  castWrapper,
  ...broadcastBinaryWrappers,
  ...exactUnaryWrappers,
];
