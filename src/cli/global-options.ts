import type { Command } from 'commander';
import { parseBackendChoice, selectBackend, selectClusteringBackend, type BackendChoice, type BackendInfo } from '../index.js';
import { inFlagTerms } from './run-action.js';

/** Activates the backend named by the global --backend option (else $PUL_BACKEND, else auto). */
export function activateBackend(program: Command): Promise<BackendInfo> {
  return withFlagTerms(program, selectBackend);
}

/** For k-means and the selection: the native kernels alone when they load and the request allows (see selectClusteringBackend). */
export function activateClusteringBackend(program: Command): Promise<BackendInfo | null> {
  return withFlagTerms(program, selectClusteringBackend);
}

async function withFlagTerms<T>(program: Command, select: (choice: BackendChoice | undefined) => Promise<T>): Promise<T> {
  const { backend } = program.opts<{ backend?: string }>();
  try {
    return await select(backend === undefined ? undefined : parseBackendChoice(backend));
  } catch (err) {
    throw backend === undefined ? err : inFlagTerms(err, { backend: '--backend' });
  }
}
