/**
 * Wraps a command's action: a PulError is printed as one clear line and sets the exit code of its
 * family; anything else is a bug and is printed with its stack (exit 1).
 *
 * Library errors name the option by its config key in `where.option` (clustering.k, training.batchSize);
 * a command that sets that value from a flag lists key → flag in a FlagTable, and the error then names
 * the flag the user typed (--k) instead, in `where.option` and in the message.
 */
import { PulError, isPulError, nearestKey } from '../index.js';

/** Option keys of the library (config keys) → the flag of this command that sets the same value. */
export type FlagTable = Readonly<Record<string, string>>;

export function runAction<A extends unknown[]>(action: (...args: A) => Promise<void>, flags: FlagTable = {}): (...args: A) => Promise<void> {
  return async (...args: A) => {
    try {
      await action(...args);
    } catch (err) {
      reportError(inFlagTerms(err, flags));
    }
  };
}

/** A library error naming a config key of the table, reworded to name the flag instead. */
export function inFlagTerms(err: unknown, flags: FlagTable): unknown {
  const option = isPulError(err) ? err.where?.option : undefined;
  const key = option === undefined ? undefined : nearestKey(option, flags);
  if (!isPulError(err) || key === undefined) return err;
  const flag = flags[key]!;
  // dotted keys of the table named in the text (model.name) become their flags too; plain words are left alone
  let message = err.message;
  for (const [k, f] of Object.entries(flags)) {
    if (k.includes('.')) message = message.replace(new RegExp(`(?<![\\w.-])${k.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?:\\.\\w+)*(?![\\w.])`, 'g'), f);
  }
  return new PulError(err.code, message, { ...err.where, option: flag }, { cause: err });
}

export function reportError(err: unknown): void {
  if (isPulError(err)) {
    const where = err.where;
    const loc = where ? [where.file, where.line === undefined ? undefined : `line ${where.line}`, where.row === undefined ? undefined : `row ${where.row}`, where.option].filter(Boolean).join(', ') : '';
    process.stderr.write(`pul: error [${err.code}]${loc ? ` (${loc})` : ''}: ${err.message}\n`);
    process.exitCode = err.exitCode;
  } else {
    process.stderr.write(`pul: unexpected error (a bug — please report it):\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  }
}
