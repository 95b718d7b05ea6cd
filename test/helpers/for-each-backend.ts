import { selectBackend, tf, type BackendName } from '../../src/index.js';

/** The backends every numeric test runs on: always cpu (the reference) and wasm (what pul uses here). */
export const TEST_BACKENDS: readonly BackendName[] = ['cpu', 'wasm'];

/** Activates a backend for a test body. */
export async function useBackend(name: BackendName): Promise<void> {
  await selectBackend(name);
}

/**
 * `run` on the cpu backend (the reference), then on wasm; also returns how many tensors the wasm run
 * left behind (0 when it disposes everything it makes).
 */
export async function cpuThenWasm<T>(run: () => Promise<T>): Promise<{ ref: T; got: T; leaked: number }> {
  await selectBackend('cpu');
  const ref = await run();
  await selectBackend('wasm');
  const before = tf.memory().numTensors;
  const got = await run();
  return { ref, got, leaked: tf.memory().numTensors - before };
}
