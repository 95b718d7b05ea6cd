/** `selection.csv`: header `row,label,similarity,path`, one line per selected feature row, written atomically. */
import path from 'node:path';
import { writeFileAtomic } from '../core/atomic-fs.js';
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
