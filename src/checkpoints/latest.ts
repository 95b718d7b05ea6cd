/** The `latest.json` pointer of a run directory: which checkpoint (sub-directory) is the newest. */
import path from 'node:path';
import { readJson, writeJsonAtomic, exists } from '../core/atomic-fs.js';
import { PulError } from '../core/errors.js';

export const LATEST_JSON = 'latest.json';

/** Points `runDir/latest.json` at `runDir/name` (atomically). */
export async function writeLatest(runDir: string, name: string): Promise<void> {
  await writeJsonAtomic(path.join(runDir, LATEST_JSON), { checkpoint: name, updated: new Date().toISOString() });
}

/** The directory `runDir/latest.json` points at, or null when the run has none yet. */
export async function resolveLatest(runDir: string): Promise<string | null> {
  const file = path.join(runDir, LATEST_JSON);
  if (!(await exists(file))) return null;
  const raw = await readJson(file, 'checkpoint.corrupt');
  const name = (raw as { checkpoint?: unknown } | null)?.checkpoint;
  if (typeof name !== 'string' || name.includes('/') || name.includes('\\') || name === '..' || name === '') {
    throw new PulError('checkpoint.corrupt', `${file}: "checkpoint" must name a sub-directory, got ${JSON.stringify(name)}`, { file });
  }
  const dir = path.join(runDir, name);
  if (!(await exists(dir))) throw new PulError('checkpoint.notFound', `${file} points at ${dir}, which does not exist`, { file });
  return dir;
}
