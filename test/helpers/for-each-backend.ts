import { selectBackend, type BackendName } from '../../src/index.js';

/** The backends every numeric test runs on: always cpu (the reference) and wasm (what pul uses here). */
export const TEST_BACKENDS: readonly BackendName[] = ['cpu', 'wasm'];

/** Activates a backend for a test body. */
export async function useBackend(name: BackendName): Promise<void> {
  await selectBackend(name);
}
