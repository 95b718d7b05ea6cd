/** The `latest.json` pointer of a run directory: which checkpoint (sub-directory) is the newest. */
import path from 'node:path';
import { readJson, writeJsonAtomic, exists } from '../core/atomic-fs.js';
import { PulError } from '../core/errors.js';

/** The pointer file of a run folder: names its newest checkpoint. */
export const LATEST_JSON = 'latest.json';

/** Points `runDir/latest.json` at `runDir/name` (atomically); `name` is relative, '/'-separated. */
export async function writeLatest(runDir: string, name: string): Promise<void> {
  await writeJsonAtomic(path.join(runDir, LATEST_JSON), { checkpoint: name.split(path.sep).join('/'), updated: new Date().toISOString() });
}

/** The directory `runDir/latest.json` points at, or null when the run has none yet. */
export async function resolveLatest(runDir: string): Promise<string | null> {
  const file = path.join(runDir, LATEST_JSON);
  if (!(await exists(file))) return null;
  const raw = await readJson(file, 'checkpoint.corrupt');
  const name = (raw as { checkpoint?: unknown } | null)?.checkpoint;
  // a relative path inside the run folder (e.g. "round-03/checkpoint"), never outside it
  if (typeof name !== 'string' || name === '' || path.isAbsolute(name) || name.includes('\\') || name.split('/').some((part) => part === '..' || part === '')) {
    throw new PulError('checkpoint.corrupt', `${file}: "checkpoint" must name a folder inside ${runDir}, got ${JSON.stringify(name)}`, { file });
  }
  const dir = path.join(runDir, name);
  if (!(await exists(dir))) throw new PulError('checkpoint.notFound', `${file} points at ${dir}, which does not exist`, { file });
  return dir;
}
