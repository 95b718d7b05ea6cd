/**
 * IDX datasets (MNIST family, e.g. Debian's /usr/share/datasets/fashion-mnist): a folder with
 * `<set>-images-idx3-ubyte[.gz]` + `<set>-labels-idx1-ubyte[.gz]` for the sets `train` and `t10k`.
 * label = pid. Samples point into the images file: path `<images file>#<index>`.
 *
 * Split rule (PROTOCOLS.md, fmnist-disjoint and fmnist-unsup): train images → split train
 * (camid 0); t10k images, after the class filter, in file order: every 10th (position % 10 == 0)
 * → query (camid 0), the others → gallery (camid 1).
 */
import path from 'node:path';
import { PulError } from '../core/errors.js';
import { ImageReader } from './images.js';
import type { IdxArray } from './idx-file.js';
import type { Dataset, Sample } from './sample.js';
import { listDir } from './scan.js';

/** fmnist-disjoint: labelled source classes 0–4 and unlabelled target classes 5–9. */
export const FMNIST_DISJOINT_SOURCE_CLASSES: readonly number[] = Object.freeze([0, 1, 2, 3, 4]);
/** Fashion-MNIST labels of the target domain in the disjoint-classes protocol (the source has the others). */
export const FMNIST_DISJOINT_TARGET_CLASSES: readonly number[] = Object.freeze([5, 6, 7, 8, 9]);

/** Options of the IDX loader. */
export interface IdxOptions {
  /** Keep only these labels (default all). */
  readonly classes?: readonly number[];
  /** Share decoded IDX files with the batch iterator (read once). */
  readonly reader?: ImageReader;
}

const IDX_NAME = /^(.+?)[-.](images|labels)[-.]idx(\d)-ubyte(\.gz)?$/;

/** The IDX image/label file pairs of a folder, by set name (`train`, `t10k`, …). */
export async function findIdxFiles(root: string): Promise<Map<string, { images?: string; labels?: string }>> {
  const sets = new Map<string, { images?: string; labels?: string }>();
  for (const name of await listDir(root)) {
    const m = IDX_NAME.exec(name);
    if (!m) continue;
    const set = m[1] ?? '';
    const entry = sets.get(set) ?? {};
    if (m[2] === 'images') entry.images = path.join(root, name);
    else entry.labels = path.join(root, name);
    sets.set(set, entry);
  }
  return sets;
}

/** True when `root` holds an IDX images file. */
export async function looksLikeIdx(root: string): Promise<boolean> {
  for (const set of (await findIdxFiles(root)).values()) if (set.images) return true;
  return false;
}

/** Loads an IDX folder (train → train; t10k/test → query + gallery by the every-10th rule). */
export async function loadIdx(root: string, opts: IdxOptions = {}): Promise<Dataset> {
  const reader = opts.reader ?? new ImageReader({ cacheBytes: 0 });
  const sets = await findIdxFiles(root);
  if (sets.size === 0) throw new PulError('dataset.unknownLayout', `${root} has no *-images-idx3-ubyte[.gz] file`, { file: root });
  const keep = opts.classes ? new Set(opts.classes) : undefined;
  const samples: Sample[] = [];
  for (const [set, files] of [...sets].sort(([a], [b]) => (a === 'train' ? -1 : b === 'train' ? 1 : a.localeCompare(b)))) {
    if (!files.images || !files.labels) {
      const have = files.images ?? files.labels ?? set;
      throw new PulError('dataset.notFound', `${have} has no matching ${files.images ? 'labels' : 'images'} file (${set}-${files.images ? 'labels-idx1' : 'images-idx3'}-ubyte[.gz])`, {
        file: have,
      });
    }
    const [images, labels] = await Promise.all([reader.idx(files.images), reader.idx(files.labels)]);
    checkPair(images, labels);
    const isTrain = /train/i.test(set);
    let position = 0;
    for (let i = 0; i < labels.data.length; i++) {
      const pid = labels.data[i]!;
      if (keep && !keep.has(pid)) continue;
      const p = `${files.images}#${i}`;
      if (isTrain) samples.push({ path: p, pid, camid: 0, split: 'train' });
      else {
        const query = position % 10 === 0;
        samples.push({ path: p, pid, camid: query ? 0 : 1, split: query ? 'query' : 'gallery' });
      }
      position++;
    }
  }
  return { name: path.basename(root), root, format: 'idx', samples, junk: 0 };
}

function checkPair(images: IdxArray, labels: IdxArray): void {
  if (images.dims.length !== 3) {
    throw new PulError('idx.malformed', `${images.file} has ${images.dims.length} dimensions; an images file has 3 (count × height × width)`, { file: images.file });
  }
  if (labels.dims.length !== 1) {
    throw new PulError('idx.malformed', `${labels.file} has ${labels.dims.length} dimensions; a labels file has 1`, { file: labels.file });
  }
  if (images.dims[0] !== labels.dims[0]) {
    throw new PulError('idx.malformed', `${images.file} holds ${images.dims[0]} images but ${labels.file} ${labels.dims[0]} labels`, { file: labels.file });
  }
}
