/**
 * `skipped-images.csv` of a run or training folder: the images left out because they cannot be decoded
 * (--skip-bad), in the manifest format `path,pid,camid,split`.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../core/atomic-fs.js';
import type { Sample } from '../datasets/sample.js';
import { formatIndexCsv, parseIndexCsv } from '../features/features-npy.js';

export const SKIPPED_IMAGES = 'skipped-images.csv';

/** Writes `dir/skipped-images.csv` (atomically); returns its path. */
export async function writeSkippedImages(dir: string, samples: readonly Sample[]): Promise<string> {
  const file = path.join(dir, SKIPPED_IMAGES);
  await writeFileAtomic(file, formatIndexCsv(samples.map((s) => ({ path: s.path, pid: s.pid, camid: s.camid, split: s.split }))));
  return file;
}

/** The paths listed in `dir/skipped-images.csv`, or null when the folder has none. */
export async function readSkippedImages(dir: string): Promise<string[] | null> {
  const file = path.join(dir, SKIPPED_IMAGES);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    return null;
  }
  return parseIndexCsv(text, file).map((r) => r.path);
}
