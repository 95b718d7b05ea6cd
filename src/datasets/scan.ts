/** File-system helpers shared by the loaders: existence checks and image listings, with clear errors. */
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { PulError } from '../core/errors.js';

/** File extensions treated as images. */
export const IMAGE_EXTENSION = /\.(jpe?g|png|webp)$/i;

/** What a directory entry is, or undefined when it does not exist. */
export async function kindOf(p: string): Promise<'file' | 'dir' | undefined> {
  try {
    const s = await stat(p);
    return s.isDirectory() ? 'dir' : 'file';
  } catch {
    return undefined;
  }
}

/** The sorted entry names of a directory; dataset.notFound / dataset.unreadable otherwise. */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new PulError('dataset.notFound', `dataset folder ${dir} does not exist`, { file: dir }, { cause: err });
    throw new PulError('dataset.unreadable', `cannot list ${dir}: ${(err as Error).message}`, { file: dir }, { cause: err });
  }
}

/** The image file names (sorted) of a directory, skipping hidden files. */
export async function listImages(dir: string): Promise<string[]> {
  return (await listDir(dir)).filter((n) => !n.startsWith('.') && IMAGE_EXTENSION.test(n));
}

/** Formats the first few names of a list for a message: `a.jpg, b.jpg, … (12 in all)`. */
export function firstNames(names: readonly string[], max = 5): string {
  const shown = names.slice(0, max).join(', ');
  return names.length > max ? `${shown}, … (${names.length} in all)` : shown;
}

/**
 * `p` resolved against `base`, refused (dataset.outsideRoot) when it leaves `base` — `../x` or an absolute path
 * elsewhere — unless `allowOutside`: a manifest names images beside it, not any file of the machine.
 */
export function resolveInside(base: string, p: string, allowOutside: boolean, where: { readonly file: string; readonly line?: number }): string {
  const resolved = path.resolve(base, p);
  const rel = path.relative(base, resolved);
  if (!allowOutside && (rel === '..' || rel.startsWith(`..${path.sep}`) || path.isAbsolute(rel))) {
    throw new PulError('dataset.outsideRoot', `path ${p} leaves the folder ${base} (it resolves to ${resolved}); pass --allow-outside (config: data.allowOutside) to accept paths outside it`, where);
  }
  return resolved;
}
