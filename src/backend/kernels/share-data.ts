/**
 * Identity, and Cast to the dtype a tensor already has, without copying: the output shares the
 * input's data (reference-counted), as tfjs's cpu backend and the wasm backend's own Reshape do.
 * Tensors are immutable, and pul's kernels never write to an input. The wasm backend copies the whole
 * tensor instead (in a training step: moments' cast of x and its gradient, once per batch norm).
 * Cast to bool is also fixed here: tfjs-backend-wasm 4.22 copies the numbers into bytes (−2 → 254)
 * instead of testing them against zero.
 */
import type { KernelFunc, TensorInfo } from '@tensorflow/tfjs';

interface RefCountingBackend {
  incRef(dataId: object): void;
  makeOutput(shape: number[], dtype: 'bool'): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): ArrayLike<number> & { [i: number]: number };
}

function share(original: KernelFunc): KernelFunc {
  return (args) => {
    const { x } = args.inputs as { x: TensorInfo };
    const dtype = (args.attrs as { dtype?: string } | undefined)?.dtype ?? x.dtype;
    const backend = args.backend as RefCountingBackend;
    if (dtype === 'bool' && x.dtype !== 'bool' && x.dtype !== 'string') {
      const out = backend.makeOutput([...x.shape], 'bool');
      const values = backend.typedArrayFromHeap(x);
      const bytes = backend.typedArrayFromHeap(out);
      for (let i = 0; i < values.length; i++) bytes[i] = values[i] !== 0 ? 1 : 0;
      return out;
    }
    if (x.dtype === 'string' || dtype !== x.dtype) return original(args);
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };
}

export const identityWrapper = { kernelName: 'Identity', wrap: share };
export const castWrapper = { kernelName: 'Cast', wrap: share };
