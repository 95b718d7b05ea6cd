/**
 * A plain folder per identity: `DIR/<pid>/*.jpg` (split train), or `DIR/{train,query,gallery}/<pid>/*.jpg`.
 * A numeric folder name is the pid; other names get pids 0, 1, … in sorted order. The camera is
 * read from a `_c<N>` in the file name when present, else 0.
 */
import path from 'node:path';
import { PulError } from '../core/errors.js';
import { MAX_ID, SPLITS, type Dataset, type Sample, type Split } from './sample.js';
import { kindOf, listDir, listImages } from './scan.js';

/** True when some subfolder of `root` holds images. */
export async function looksLikeFolderPerIdentity(root: string): Promise<boolean> {
  for (const name of await listDir(root)) {
    const dir = path.join(root, name);
    if ((await kindOf(dir)) !== 'dir') continue;
    if ((await listImages(dir)).length > 0) return true;
    if ((SPLITS as readonly string[]).includes(name)) {
      for (const sub of await listDir(dir)) if ((await kindOf(path.join(dir, sub))) === 'dir' && (await listImages(path.join(dir, sub))).length > 0) return true;
    }
  }
  return false;
}

/** Loads a folder-per-identity dataset. */
export async function loadFolderPerIdentity(root: string): Promise<Dataset> {
  const names = await listDir(root);
  const splitDirs = names.filter((n) => (SPLITS as readonly string[]).includes(n));
  const parts: [string, Split][] = splitDirs.length > 0 ? splitDirs.map((n) => [path.join(root, n), n as Split]) : [[root, 'train']];
  const samples: Sample[] = [];
  const pidOf = new Map<string, number>();
  for (const [dir, split] of parts) {
    const ids: string[] = [];
    for (const n of await listDir(dir)) if (!n.startsWith('.') && (await kindOf(path.join(dir, n))) === 'dir') ids.push(n);
    for (const id of ids) {
      if (/^\d+$/.test(id) && Number(id) > MAX_ID) throw new PulError('dataset.badFileName', `identity folder ${id} is a pid above ${MAX_ID}, the largest pid pul stores`, { file: path.join(dir, id) });
      if (!pidOf.has(id)) pidOf.set(id, /^\d+$/.test(id) ? Number(id) : -1);
    }
    let nextPid = Math.max(-1, ...[...pidOf.values()]) + 1;
    for (const id of ids) {
      if (pidOf.get(id) === -1) pidOf.set(id, nextPid++);
      for (const file of await listImages(path.join(dir, id))) {
        const cam = /_c(\d+)/.exec(file);
        if (cam && Number(cam[1]) > MAX_ID) throw new PulError('dataset.badFileName', `${file} has camid ${cam[1]}, above ${MAX_ID}`, { file: path.join(dir, id, file) });
        samples.push({ path: path.join(dir, id, file), pid: pidOf.get(id) ?? 0, camid: cam ? Number(cam[1]) : 0, split });
      }
    }
  }
  if (samples.length === 0) throw new PulError('dataset.empty', `${root} has no <identity>/<image> files`, { file: root });
  return { name: path.basename(root), root, format: 'folder', samples, junk: 0 };
}
