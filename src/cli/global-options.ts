import type { Command } from 'commander';
import { parseBackendChoice, selectBackend, type BackendInfo } from '../index.js';
import { inFlagTerms } from './run-action.js';

/** Activates the backend named by the global --backend option (else $PUL_BACKEND, else auto). */
export async function activateBackend(program: Command): Promise<BackendInfo> {
  const { backend } = program.opts<{ backend?: string }>();
  try {
    return await selectBackend(backend === undefined ? undefined : parseBackendChoice(backend));
  } catch (err) {
    throw backend === undefined ? err : inFlagTerms(err, { backend: '--backend' });
  }
}
