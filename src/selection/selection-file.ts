/** `selection.csv`: header `row,label,similarity,path`, one line per selected feature row, written atomically. */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../core/atomic-fs.js';
import { PulError } from '../core/errors.js';
import type { Selection } from './selection.js';

export const SELECTION_FILE = 'selection.csv';

const quote = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);

export async function writeSelectionFile(dir: string, selection: Selection, paths?: readonly string[]): Promise<void> {
  const lines = ['row,label,similarity,path'];
  for (let s = 0; s < selection.indices.length; s++) {
    const row = selection.indices[s]!;
    lines.push(`${row},${selection.labels[s]},${selection.similarity[s]!.toFixed(6)},${quote(paths?.[row] ?? '')}`);
  }
  await writeFileAtomic(path.join(dir, SELECTION_FILE), `${lines.join('\n')}\n`);
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
  const lines = text.split('\n');
  if (!lines[0]?.startsWith('row,label')) throw new PulError('selection.invalid', `${file}: line 1 must be the header row,label,similarity,path`, { file, line: 1 });
  const indices: number[] = [];
  const labels: number[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    if (line === '') continue;
    const [row, label] = line.split(',', 2).map(Number);
    if (!Number.isInteger(row) || !Number.isInteger(label) || row! < 0 || label! < 0) throw new PulError('selection.invalid', `${file}: line ${i + 1} does not start with a row and a label: "${line.slice(0, 60)}"`, { file, line: i + 1 });
    indices.push(row!);
    labels.push(label!);
  }
  return { indices: Int32Array.from(indices), labels: Int32Array.from(labels) };
}
