/**
 * Where a report page goes: an `.html` file, new or replaced only with `force`, written atomically; the
 * check runs before any work (the folder must accept files), so a bad --out fails at once.
 */
import { constants, promises as fs } from 'node:fs';
import path from 'node:path';
import { PulError } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic-fs.js';

/**
 * Checks that `out` may receive a report page: it ends in .html (so it is never one of the files a
 * report reads), it is not a folder, it exists only with `force`, and its nearest existing folder is writable.
 * @example
 * await checkReportFile('checkpoints/demo/report.html', { force: false, option: '--out' });
 */
export async function checkReportFile(out: string, options: { readonly force?: boolean; readonly option?: string } = {}): Promise<void> {
  const option = options.option ?? '--out';
  if (path.extname(out).toLowerCase() !== '.html') throw new PulError('option.invalid', `${option} ${out}: a report is an .html file; give a name ending in .html`, { option });
  const stat = await fs.stat(out).catch(() => null);
  if (stat?.isDirectory()) throw new PulError('output.exists', `${option} ${out} is a folder; give a file name ending in .html`, { file: out, option });
  if (stat !== null && !options.force) throw new PulError('output.exists', `${option} ${out} exists; add --force to replace it`, { file: out, option });
  let dir = path.dirname(path.resolve(out));
  while (!(await fs.stat(dir).catch(() => null))) dir = path.dirname(dir);
  try {
    if (!(await fs.stat(dir)).isDirectory()) throw new Error('not a folder');
    await fs.access(dir, constants.W_OK);
  } catch (err) {
    throw new PulError('output.notWritable', `cannot write ${out} (${option}): ${dir} does not accept new files (${(err as Error).message})`, { file: out, option }, { cause: err });
  }
}

/** Writes the page atomically (its folder created when missing). */
export async function writeReportFile(out: string, html: string): Promise<void> {
  await fs.mkdir(path.dirname(path.resolve(out)), { recursive: true });
  await writeFileAtomic(out, html);
}
