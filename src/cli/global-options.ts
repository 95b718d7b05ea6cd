import type { Command } from 'commander';
import { parseBackendChoice, selectBackend, selectClusteringBackend, type BackendChoice, type BackendInfo } from '../index.js';

/** Activates the backend named by the global --backend option (else $PUL_BACKEND, else auto). */
export function activateBackend(program: Command): Promise<BackendInfo> {
  return selectBackend(backendOption(program));
}

/** For k-means and the selection: the native kernels alone when they load and the request allows (see selectClusteringBackend). */
export function activateClusteringBackend(program: Command): Promise<BackendInfo | null> {
  return selectClusteringBackend(backendOption(program));
}

function backendOption(program: Command): BackendChoice | undefined {
  const { backend } = program.opts<{ backend?: string }>();
  return backend === undefined ? undefined : parseBackendChoice(backend);
}
