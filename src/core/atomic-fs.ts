/**
 * Writes that never leave a half-written file behind: write to a temp file beside the target, fsync,
 * rename over it, then fsync the parent folder so the rename itself survives a power cut. A crash or a
 * full disk leaves the previous version intact.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PulError } from './errors.js';

/**
 * Fault injection for the disk-full tests: PUL_FAULT=enospc:<path suffix> makes the atomic write of a
 * target ending so fail after its data went to the temp file, as a full disk would (ENOSPC).
 */
function simulatedDiskFull(target: string): void {
  const fault = process.env['PUL_FAULT'];
  if (fault?.startsWith('enospc:') && path.normalize(target).endsWith(path.normalize(fault.slice('enospc:'.length)))) {
    throw Object.assign(new Error(`ENOSPC: no space left on device, write '${target}'`), { code: 'ENOSPC' });
  }
}

/**
 * fsyncs a folder, making the names created or renamed in it durable. Windows cannot open a folder for
 * that (EISDIR/EPERM), and its renames need no such step, so those errors are ignored.
 */
async function syncDir(dir: string): Promise<void> {
  let handle: fs.FileHandle;
  try {
    handle = await fs.open(dir, 'r');
  } catch (err) {
    if (['EISDIR', 'EPERM', 'EACCES'].includes((err as NodeJS.ErrnoException).code ?? '')) return;
    throw err;
  }
  try {
    await handle.sync();
  } catch (err) {
    if (!['EINVAL', 'EPERM', 'EBADF'].includes((err as NodeJS.ErrnoException).code ?? '')) throw err;
  } finally {
    await handle.close();
  }
}

/** fsyncs every file under `dir`, then every folder, deepest first, so the tree is on disk before it is renamed into place. */
async function syncTree(dir: string): Promise<void> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      await syncTree(full);
    } else if (entry.isFile()) {
      const handle = await fs.open(full, 'r+');
      try {
        await handle.sync();
      } finally {
        await handle.close();
      }
    }
  }
  await syncDir(dir);
}

function tempPathFor(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.tmp-${process.pid}-${Date.now()}`);
}

export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const tmp = tempPathFor(target);
  try {
    await fs.mkdir(path.dirname(target), { recursive: true });
    const handle = await fs.open(tmp, 'w');
    try {
      await handle.writeFile(data);
      simulatedDiskFull(target);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, target);
    await syncDir(path.dirname(target));
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw new PulError('io.writeFailed', `could not write ${target}: ${(err as Error).message}`, { file: target }, { cause: err });
  }
}

export async function writeJsonAtomic(target: string, value: unknown): Promise<void> {
  await writeFileAtomic(target, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Builds a directory under a temp name, then renames it into place, replacing any previous one only
 * once the new one is complete.
 */
export async function writeDirAtomic(target: string, fill: (tmpDir: string) => Promise<void>): Promise<void> {
  const tmp = tempPathFor(target);
  const old = `${tmp}.old`;
  try {
    await fs.mkdir(path.dirname(target), { recursive: true });
    await fs.mkdir(tmp);
    await fill(tmp);
    simulatedDiskFull(target);
    await syncTree(tmp);
    const hadPrevious = await exists(target);
    if (hadPrevious) await fs.rename(target, old);
    await fs.rename(tmp, target);
    await syncDir(path.dirname(target));
    if (hadPrevious) await fs.rm(old, { recursive: true, force: true });
  } catch (err) {
    await fs.rm(tmp, { recursive: true, force: true });
    if ((await exists(old)) && !(await exists(target))) await fs.rename(old, target);
    if (err instanceof PulError) throw err;
    throw new PulError('io.writeFailed', `could not write ${target}: ${(err as Error).message}`, { file: target }, { cause: err });
  }
}

export async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}

/** Reads and parses a JSON file; a missing or malformed file is a PulError naming it. */
export async function readJson(file: string, code: 'config.invalid' | 'checkpoint.corrupt' | 'state.invalid' = 'config.invalid'): Promise<unknown> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new PulError(code, `cannot read ${file}: ${(err as Error).message}`, { file }, { cause: err });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    // V8 says "at position N" (a character offset); a person looks for a line and column
    const message = (err as Error).message;
    const at = /at position (\d+)/.exec(message);
    const position = at !== null ? Number(at[1]) : /end of JSON/.test(message) ? text.length : null;
    if (position === null) throw new PulError(code, `${file} is not valid JSON: ${message}`, { file }, { cause: err });
    const before = text.slice(0, position);
    const line = before.split('\n').length;
    const column = before.length - before.lastIndexOf('\n');
    const why = message.replace(/ in JSON at position \d+.*$/, '');
    throw new PulError(code, `${file} is not valid JSON: ${why} at line ${line}, column ${column}`, { file, line }, { cause: err });
  }
}
