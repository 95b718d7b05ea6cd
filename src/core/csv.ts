/**
 * CSV in and out through one library pair (csv-stringify / csv-parse, the same project), so every file
 * pul writes reads back field for field: a path holding a comma, a quote, a CR or an LF is quoted on the
 * way out and unquoted on the way in, which hand-written quoting and line-splitting readers got wrong.
 */
import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { PulError, type PulErrorCode } from './errors.js';

/**
 * The CSV text of a header and rows, LF-terminated. Fields with leading or trailing spaces are quoted
 * too, so that readers trimming unquoted fields (as pul's do) keep them.
 * @example
 * formatCsv(['path', 'pid'], [['a,b.jpg', 1]]); // 'path,pid\n"a,b.jpg",1\n'
 */
export function formatCsv(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  return stringify([header, ...rows] as (string | number)[][], { record_delimiter: '\n', quoted_match: /^\s|\s$/ });
}

/** One parsed record and the line of the file it ends on (1-based). */
export interface CsvRecord {
  readonly fields: string[];
  readonly line: number;
}

/**
 * Parses CSV text (header included, empty lines skipped, a BOM dropped, unquoted fields trimmed); a
 * malformed file is a PulError with `code` naming `file` and the line.
 */
export function parseCsv(text: string, file: string, options: { readonly code?: PulErrorCode; readonly relaxColumnCount?: boolean } = {}): CsvRecord[] {
  try {
    const parsed = parse(text, { info: true, skip_empty_lines: true, trim: true, bom: true, relax_column_count: options.relaxColumnCount ?? false }) as unknown as {
      record: string[];
      info: { lines: number };
    }[];
    return parsed.map(({ record, info }) => ({ fields: record, line: info.lines }));
  } catch (err) {
    const line = (err as { lines?: number }).lines;
    throw new PulError(options.code ?? 'csv.malformedLine', `${file}${line ? `:${line}` : ''} is not valid CSV: ${(err as Error).message}`, line ? { file, line } : { file }, { cause: err });
  }
}
