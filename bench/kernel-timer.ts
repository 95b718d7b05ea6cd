/**
 * Times every kernel registered for the wasm backend (outermost calls only, so a pul kernel calling the
 * backend's own is counted once): wall and CPU ms (every thread) per call, handed to `record` with the
 * kernel's name and first input's shape. `active()` false: calls run untimed.
 */
import { tf } from '../src/index.js';

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

export function timeWasmKernels(record: (kernelName: string, shape: string, ms: number, cpuMs: number) => void, active: () => boolean = () => true): void {
  let depth = 0;
  for (const kernel of tf.getKernelsForBackend('wasm')) {
    const inner = kernel.kernelFunc;
    tf.unregisterKernel(kernel.kernelName, 'wasm');
    tf.registerKernel({
      ...kernel,
      kernelFunc: (args) => {
        if (!active() || depth > 0) return inner(args);
        depth++;
        const t = performance.now();
        const c = cpuMs();
        try {
          return inner(args);
        } finally {
          const ms = performance.now() - t;
          const cpu = cpuMs() - c;
          depth--;
          record(kernel.kernelName, Object.values(args.inputs)[0]?.shape.join('×') ?? '', ms, cpu);
        }
      },
    });
  }
}
