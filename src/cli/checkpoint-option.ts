import { PulError, loadCheckpoint, resolveLatest, type LoadedCheckpoint } from '../index.js';
import { existsSync } from 'node:fs';
import path from 'node:path';

/** --checkpoint: a checkpoint folder (meta.json), or a run folder whose latest.json names one. */
export async function loadCheckpointOption(dir: string): Promise<LoadedCheckpoint> {
  if (!existsSync(path.join(dir, 'meta.json'))) {
    const latest = await resolveLatest(dir);
    if (latest === null) throw new PulError('checkpoint.notFound', `${dir} is neither a checkpoint (meta.json) nor a run folder with latest.json (--checkpoint)`, { file: dir, option: '--checkpoint' });
    return loadCheckpoint(latest);
  }
  return loadCheckpoint(dir);
}
