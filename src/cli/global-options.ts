import type { Command } from 'commander';
import { parseBackendChoice, selectBackend, type BackendInfo } from '../index.js';

/** Activates the backend named by the global --backend option (else $PUL_BACKEND, else auto). */
export function activateBackend(program: Command): Promise<BackendInfo> {
  const { backend } = program.opts<{ backend?: string }>();
  return selectBackend(backend === undefined ? undefined : parseBackendChoice(backend));
}
