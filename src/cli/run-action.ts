/**
 * Wraps a command's action: a PulError is printed as one clear line and sets the exit code of its
 * family; anything else is a bug and is printed with its stack (exit 1).
 */
import { isPulError } from '../index.js';

export function runAction<A extends unknown[]>(action: (...args: A) => Promise<void>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (err) {
      reportError(err);
    }
  };
}

export function reportError(err: unknown): void {
  if (isPulError(err)) {
    const where = err.where;
    const loc = where ? [where.file, where.line === undefined ? undefined : `line ${where.line}`, where.option].filter(Boolean).join(', ') : '';
    process.stderr.write(`pul: error [${err.code}]${loc ? ` (${loc})` : ''}: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`pul: unexpected error (a bug — please report it):\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}
