import { createHash } from 'node:crypto';
import { lstat, readFile, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';

/**
 * One hash of everything under `root`: every entry's relative path, type and (for files) bytes or (for
 * links) target. Equal before and after a command ⇔ the command changed nothing on disk there.
 */
export async function hashTree(root: string): Promise<string> {
  const h = createHash('sha256');
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const p = path.join(dir, name);
      const rel = path.relative(root, p);
      const s = await lstat(p);
      if (s.isDirectory()) {
        h.update(`d ${rel}\n`);
        await walk(p);
      } else if (s.isSymbolicLink()) {
        h.update(`l ${rel} ${await readlink(p)}\n`);
      } else {
        h.update(`f ${rel} ${s.size}\n`);
        h.update(await readFile(p));
      }
    }
  };
  await walk(root);
  return h.digest('hex');
}
