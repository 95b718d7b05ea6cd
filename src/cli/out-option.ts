import { prepareOutput, type OutputInput, type OutputKind, type PreparedOutput } from '../index.js';

/**
 * `--out DIR [--force]` of a command that writes one folder whole (extract, cluster): checked before any
 * work — new or empty, or with --force an output of the same kind; apart from the inputs; writable.
 */
export function replaceableOut(
  command: string,
  kind: OutputKind,
  opts: { readonly out: string; readonly force?: boolean | undefined },
  inputs: readonly OutputInput[],
  legacy: (entries: readonly string[]) => Promise<OutputKind | null>,
): Promise<PreparedOutput> {
  return prepareOutput(opts.out, { kind, command, option: '--out', mode: 'replace', force: opts.force ?? false, inputs, legacy });
}
