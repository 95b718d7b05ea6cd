/**
 * The one error type of pul. Library code throws it; only the CLI prints it and exits.
 * The code is stable (scripts may match on it); the exit code follows from the code's family.
 */

/** Stable error codes, grouped by family (the part before the dot). */
export type PulErrorCode =
  | 'option.invalid'
  | 'option.outOfRange'
  | 'config.invalid'
  | 'backend.unavailable'
  | 'backend.unknown'
  | 'dataset.notFound'
  | 'dataset.empty'
  | 'dataset.unknownLayout'
  | 'dataset.badFileName'
  | 'dataset.unreadable'
  | 'dataset.outsideRoot'
  | 'dataset.tooFewImages'
  | 'dataset.unlabelled'
  | 'image.corrupt'
  | 'csv.malformedLine'
  | 'csv.missingColumn'
  | 'idx.malformed'
  | 'features.malformed'
  | 'features.mismatch'
  | 'clustering.invalid'
  | 'clustering.tooFew'
  | 'selection.tooSmall'
  | 'selection.invalid'
  | 'training.diverged'
  | 'checkpoint.notFound'
  | 'checkpoint.corrupt'
  | 'checkpoint.mismatch'
  | 'state.invalid'
  | 'state.configChanged'
  | 'state.locked'
  | 'output.exists'
  | 'output.isInput'
  | 'output.notWritable'
  | 'io.writeFailed'
  | 'index.unreachable'
  | 'index.notIndex'
  | 'index.mismatch'
  | 'index.empty'
  | 'interrupted';

/** Where an error happened, as precisely as known. */
export interface ErrorLocation {
  readonly file?: string;
  /** 1-based line of a text file. */
  readonly line?: number;
  /** 0-based row of a matrix (a feature row; line row + 2 of its index.csv). */
  readonly row?: number;
  /** The option: a config key (clustering.k) from the library, a flag (--k) from the CLI. */
  readonly option?: string;
}

/**
 * Exit codes of the CLI: usage/config 2, data 3, checkpoint/state/output 4, interrupted 130, unexpected 1.
 * An output that may not be written (taken, an input, read-only) is 4, as is a run that is locked.
 */
const EXIT_CODE_BY_FAMILY: Readonly<Record<string, number>> = {
  option: 2,
  config: 2,
  backend: 2,
  dataset: 3,
  image: 3,
  csv: 3,
  idx: 3,
  features: 3,
  clustering: 3,
  selection: 3,
  training: 3,
  checkpoint: 4,
  state: 4,
  io: 4,
  output: 4,
  index: 4,
  interrupted: 130,
};

/** The CLI exit code of an error code's family: 2 usage/config, 3 data, 4 checkpoint/state/io, 130 interrupted, else 1. */
export function exitCodeFor(code: PulErrorCode): number {
  const family = code.split('.')[0] ?? '';
  return EXIT_CODE_BY_FAMILY[family] ?? 1;
}

/**
 * The error of every failure a user can cause: `code`, the CLI `exitCode` of its family, `where` (file / line / row / option).
 * @example throw new PulError('option.outOfRange', 'K=0 must be ≥ 1', { option: 'clustering.k' });
 */
export class PulError extends Error {
  override readonly name = 'PulError';
  readonly code: PulErrorCode;
  readonly exitCode: number;
  readonly where: ErrorLocation | undefined;

  constructor(code: PulErrorCode, message: string, where?: ErrorLocation, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.exitCode = exitCodeFor(code);
    this.where = where;
  }
}

/** Whether `value` is a PulError (narrowing). */
export function isPulError(value: unknown): value is PulError {
  return value instanceof PulError;
}
