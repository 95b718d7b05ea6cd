/** `selection.csv`: header `row,label,similarity,path`, one line per selected feature row, written atomically. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../core/atomic-fs.js';
import { formatCsv, parseCsv } from '../core/csv.js';
import { PulError } from '../core/errors.js';
import type { Selection } from './selection.js';

/** The file a selection is written to. */
export const SELECTION_FILE = 'selection.csv';

export async function writeSelectionFile(dir: string, selection: Selection, paths?: readonly string[]): Promise<void> {
  const rows = Array.from(selection.indices, (row, s) => [row, selection.labels[s]!, selection.similarity[s]!.toFixed(6), paths?.[row] ?? '']);
  await writeFileAtomic(path.join(dir, SELECTION_FILE), formatCsv(['row', 'label', 'similarity', 'path'], rows));
}

/** The rows and labels of `dir/selection.csv` (as written by writeSelectionFile); a malformed line names its number. */
export async function readSelectionFile(dir: string): Promise<{ readonly indices: Int32Array; readonly labels: Int32Array }> {
  const file = path.join(dir, SELECTION_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new PulError('selection.invalid', `cannot read ${file}: ${(err as Error).message}`, { file }, { cause: err });
  }
  const records = parseCsv(text, file, { code: 'selection.invalid' });
  if (records[0]?.fields[0] !== 'row' || records[0].fields[1] !== 'label') throw new PulError('selection.invalid', `${file}: line 1 must be the header row,label,similarity,path`, { file, line: 1 });
  const indices: number[] = [];
  const labels: number[] = [];
  for (const { fields, line } of records.slice(1)) {
    const [row, label] = fields.slice(0, 2).map((f) => (/^\d+$/.test(f) ? Number(f) : NaN));
    if (!Number.isInteger(row) || !Number.isInteger(label)) throw new PulError('selection.invalid', `${file}: line ${line} does not start with a row and a label: "${fields.join(',').slice(0, 60)}"`, { file, line });
    indices.push(row!);
    labels.push(label!);
  }
  return { indices: Int32Array.from(indices), labels: Int32Array.from(labels) };
}
