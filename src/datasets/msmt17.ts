/**
 * MSMT17 (V1 and V2) list files: list_train.txt, list_val.txt, list_query.txt, list_gallery.txt,
 * lines `relative/path.jpg pid`; camid from the file name's third field (`PPPP_NNN_CC_…`, as written).
 * Train/val paths are relative to train/ (V1) or mask_train_v2/ (V2), query/gallery to test/ or
 * mask_test_v2/. As in torchreid, list_val is left out of train unless asked (includeVal).
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { PulError } from '../core/errors.js';
import { MAX_ID, type Dataset, type Sample, type Split } from './sample.js';
import { kindOf, resolveInside } from './scan.js';

const LISTS: readonly { readonly file: string; readonly split: Split; readonly dirs: readonly string[]; readonly val?: boolean }[] = [
  { file: 'list_train.txt', split: 'train', dirs: ['train', 'mask_train_v2'] },
  { file: 'list_val.txt', split: 'train', dirs: ['train', 'mask_train_v2'], val: true },
  { file: 'list_query.txt', split: 'query', dirs: ['test', 'mask_test_v2'] },
  { file: 'list_gallery.txt', split: 'gallery', dirs: ['test', 'mask_test_v2'] },
];

/** True when `root` holds an MSMT17 list file. */
export async function looksLikeMsmt17(root: string): Promise<boolean> {
  for (const l of LISTS) if ((await kindOf(path.join(root, l.file))) === 'file') return true;
  return false;
}

/** Camera id of an MSMT17 file name (`0000_000_01_0303morning_0015_0.jpg` → 1); undefined if malformed. */
export function parseMsmt17Camid(file: string): number | undefined {
  const field = path.basename(file).split('_')[2];
  return field !== undefined && /^\d+$/.test(field) ? Number(field) : undefined;
}

/** Loads an MSMT17 folder from its list files. */
export async function loadMsmt17(root: string, opts: { readonly includeVal?: boolean; readonly allowOutside?: boolean } = {}): Promise<Dataset> {
  const samples: Sample[] = [];
  let found = 0;
  for (const list of LISTS) {
    const listPath = path.join(root, list.file);
    if ((await kindOf(listPath)) !== 'file') continue;
    found++;
    if (list.val && !opts.includeVal) continue;
    let text: string;
    try {
      text = await readFile(listPath, 'utf8');
    } catch (err) {
      throw new PulError('dataset.unreadable', `cannot read ${listPath}: ${(err as Error).message}`, { file: listPath }, { cause: err });
    }
    const entries: { rel: string; pid: number; camid: number; line: number }[] = [];
    text.split(/\r?\n/).forEach((raw, i) => {
      const line = raw.trim();
      if (line === '') return;
      const parts = line.split(/\s+/);
      const [rel, pidText] = parts;
      if (parts.length !== 2 || rel === undefined || pidText === undefined || !/^\d+$/.test(pidText)) {
        throw new PulError('dataset.badFileName', `"${line}" is not "<path> <pid>" with a non-negative integer pid`, { file: listPath, line: i + 1 });
      }
      const camid = parseMsmt17Camid(rel);
      if (camid === undefined) {
        throw new PulError('dataset.badFileName', `${rel}: no camera id in the file name (expected PPPP_NNN_CC_….jpg)`, { file: listPath, line: i + 1 });
      }
      if (Number(pidText) > MAX_ID) throw new PulError('dataset.badFileName', `pid ${pidText} is above ${MAX_ID}, the largest pid pul stores`, { file: listPath, line: i + 1 });
      entries.push({ rel, pid: Number(pidText), camid, line: i + 1 });
    });
    const first = entries[0];
    if (!first) continue;
    let base: string | undefined;
    for (const d of [...list.dirs, '']) {
      if ((await kindOf(path.join(root, d, first.rel))) === 'file') {
        base = path.join(root, d);
        break;
      }
    }
    if (base === undefined) {
      throw new PulError('dataset.notFound', `${first.rel} (first entry of ${list.file}) is in none of ${[...list.dirs, '.'].map((d) => path.join(root, d)).join(', ')}`, { file: listPath, line: 1 });
    }
    for (const e of entries) samples.push({ path: resolveInside(root, path.join(base, e.rel), opts.allowOutside ?? false, { file: listPath, line: e.line }), pid: e.pid, camid: e.camid, split: list.split });
  }
  if (found === 0) throw new PulError('dataset.unknownLayout', `${root} has none of ${LISTS.map((l) => l.file).join(', ')}`, { file: root });
  return { name: path.basename(root), root, format: 'msmt17', samples, junk: 0 };
}
