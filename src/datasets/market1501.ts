/**
 * Market-1501 and DukeMTMC-reID folder layouts: bounding_box_train/ (train), bounding_box_test/
 * (gallery), query/. File names `PPPP_cCsS_FFFFFF_BB.jpg` (Market) or `PPPP_cC_fFFFFFFF.jpg` (Duke):
 * pid = the leading integer, camid = the digits after `c` (as written, 1-based).
 * PROTOCOLS.md: junk (pid −1) is dropped, distractors (pid 0, `0000_…`) are kept.
 */
import path from 'node:path';
import { PulError } from '../core/errors.js';
import { MAX_ID, type Dataset, type Sample, type Split } from './sample.js';
import { firstNames, kindOf, listImages } from './scan.js';

/** Folder name → split, in the order they are read. */
export const MARKET_FOLDERS: Readonly<Record<string, Split>> = {
  bounding_box_train: 'train',
  query: 'query',
  bounding_box_test: 'gallery',
};

const MARKET_NAME = /^(-?\d+)_c(\d+)s\d+_\d+_\d+/;
const DUKE_NAME = /^(-?\d+)_c(\d+)_f\d+/;

/** Parses a Market or Duke file name; undefined when it matches neither pattern. */
export function parseMarketName(name: string): { readonly pid: number; readonly camid: number } | undefined {
  const m = MARKET_NAME.exec(name) ?? DUKE_NAME.exec(name);
  if (!m) return undefined;
  return { pid: Number(m[1]), camid: Number(m[2]) };
}

/** True when `root` holds at least one of the Market-1501 folders. */
export async function looksLikeMarket(root: string): Promise<boolean> {
  for (const folder of Object.keys(MARKET_FOLDERS)) if ((await kindOf(path.join(root, folder))) === 'dir') return true;
  return false;
}

/** Loads a Market-1501 / DukeMTMC-reID folder. */
export async function loadMarket1501(root: string): Promise<Dataset> {
  const samples: Sample[] = [];
  let junk = 0;
  let found = 0;
  for (const [folder, split] of Object.entries(MARKET_FOLDERS)) {
    const dir = path.join(root, folder);
    if ((await kindOf(dir)) !== 'dir') continue;
    found++;
    const names = await listImages(dir);
    const bad = names.filter((n) => !parseMarketName(n));
    if (bad.length > 0) {
      throw new PulError(
        'dataset.badFileName',
        `${bad.length} image(s) in ${dir} match neither the Market-1501 pattern PPPP_cCsS_FFFFFF_BB.jpg nor the DukeMTMC pattern PPPP_cC_fFFFFFFF.jpg: ${firstNames(bad)}`,
        { file: path.join(dir, bad[0] ?? '') },
      );
    }
    for (const name of names) {
      const { pid, camid } = parseMarketName(name) ?? { pid: -1, camid: 0 };
      if (pid === -1) {
        junk++;
        continue;
      }
      if (pid < -1) throw new PulError('dataset.badFileName', `${name} has pid ${pid}; pids are ≥ 0 (or −1 for junk)`, { file: path.join(dir, name) });
      if (pid > MAX_ID || camid > MAX_ID) throw new PulError('dataset.badFileName', `${name} has pid ${pid} / camid ${camid}; pul stores ids up to ${MAX_ID}`, { file: path.join(dir, name) });
      samples.push({ path: path.join(dir, name), pid, camid, split });
    }
  }
  if (found === 0) throw new PulError('dataset.unknownLayout', `${root} has none of ${Object.keys(MARKET_FOLDERS).join(', ')}`, { file: root });
  return { name: path.basename(root), root, format: 'market1501', samples, junk };
}
