/** Placeholder replaced below. */
import type { KernelConfig } from '@tensorflow/tfjs';
export const conv2dBackpropFilterConfig: Omit<KernelConfig, 'backendName'> = {
  kernelName: 'Conv2DBackpropFilter',
  kernelFunc: () => {
    throw new Error('not yet');
  },
};
