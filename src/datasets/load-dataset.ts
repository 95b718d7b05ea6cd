/**
 * loadDataset(path): detects the layout from the folder's contents (or takes a forced format) and
 * runs the loader of the DATASET_LOADERS table.
 */
import path from 'node:path';
import { PulError } from '../core/errors.js';
import { loadCsvManifest } from './csv-manifest.js';
import { loadFolderPerIdentity, looksLikeFolderPerIdentity } from './folder-per-identity.js';
import type { ImageReader } from './images.js';
import { loadIdx, looksLikeIdx } from './idx.js';
import { loadMarket1501, looksLikeMarket } from './market1501.js';
import { loadMsmt17, looksLikeMsmt17 } from './msmt17.js';
import { DATASET_FORMATS, type Dataset, type DatasetFormat } from './sample.js';
import { firstNames, kindOf, listDir } from './scan.js';

/** Options of loadDataset; each applies only to the formats named. */
export interface LoadDatasetOptions {
  /** Skip detection and read this layout. */
  readonly format?: DatasetFormat;
  /** idx: keep only these labels. */
  readonly classes?: readonly number[];
  /** msmt17: add list_val.txt to train. */
  readonly includeVal?: boolean;
  /** idx: share decoded IDX files with the batch iterator. */
  readonly reader?: ImageReader;
  /** csv, msmt17: accept image paths that leave the manifest's (list's) folder. */
  readonly allowOutside?: boolean;
}

/** A loader reads one layout at `root` (a folder, or the CSV file for `csv`). */
export type Loader = (root: string, opts: LoadDatasetOptions) => Promise<Dataset>;

/** Format → loader. */
export const DATASET_LOADERS = {
  market1501: (root) => loadMarket1501(root),
  msmt17: (root, opts) => loadMsmt17(root, { ...(opts.includeVal === undefined ? {} : { includeVal: opts.includeVal }), ...(opts.allowOutside === undefined ? {} : { allowOutside: opts.allowOutside }) }),
  csv: async (root, opts) => loadCsvManifest((await kindOf(root)) === 'dir' ? await csvIn(root) : root, opts.allowOutside === undefined ? {} : { allowOutside: opts.allowOutside }),
  idx: (root, opts) => loadIdx(root, { ...(opts.classes ? { classes: opts.classes } : {}), ...(opts.reader ? { reader: opts.reader } : {}) }),
  folder: (root) => loadFolderPerIdentity(root),
} as const satisfies Record<DatasetFormat, Loader>;

/** Format → "does this folder look like it" test, in DATASET_FORMATS order. */
const DETECTORS = {
  market1501: looksLikeMarket,
  msmt17: looksLikeMsmt17,
  csv: async (root) => (await csvFiles(root)).length > 0,
  idx: looksLikeIdx,
  folder: looksLikeFolderPerIdentity,
} as const satisfies Record<DatasetFormat, (root: string) => Promise<boolean>>;

/** Throws option.invalid unless `value` names a format. */
export function parseDatasetFormat(value: string): DatasetFormat {
  if ((DATASET_FORMATS as readonly string[]).includes(value)) return value as DatasetFormat;
  throw new PulError('option.invalid', `format "${value}" is not one of ${DATASET_FORMATS.join(', ')}`, { option: 'data.format' });
}

/** The layout of `root` (a folder, or a .csv file), detected from its contents. */
export async function detectFormat(root: string): Promise<DatasetFormat> {
  const kind = await kindOf(root);
  if (kind === undefined) throw new PulError('dataset.notFound', `dataset path ${root} does not exist`, { file: root });
  if (kind === 'file') {
    if (/\.csv$/i.test(root)) return 'csv';
    throw new PulError('dataset.unknownLayout', `${root} is a file; a dataset is a folder or a .csv manifest`, { file: root });
  }
  const names = (await listDir(root)).filter((n) => !n.startsWith('.'));
  if (names.length === 0) throw new PulError('dataset.empty', `dataset folder ${root} is empty`, { file: root });
  for (const format of DATASET_FORMATS) if (await DETECTORS[format](root)) return format;
  // a parent of datasets (e.g. the synthetic demo's DIR holding source/ and target/): name them
  const nested: string[] = [];
  for (const name of names.slice(0, 20)) {
    const sub = path.join(root, name);
    if ((await kindOf(sub)) === 'dir' && ((await looksLikeMarket(sub)) || (await looksLikeMsmt17(sub)) || (await looksLikeIdx(sub)))) nested.push(sub);
  }
  throw new PulError(
    'dataset.unknownLayout',
    `${root} matches no known layout (Market-1501/Duke folders, MSMT17 list_*.txt, a .csv manifest, IDX files, or <identity>/<images> folders); it holds: ${firstNames(names)}` +
      (nested.length > 0 ? `; did you mean ${nested.join(' or ')}?` : ''),
    { file: root },
  );
}

/**
 * Loads the dataset at `root` (a folder, or a CSV manifest file).
 *
 * @example
 * ```ts
 * const ds = await loadDataset('/usr/share/datasets/fashion-mnist', { classes: [5, 6, 7, 8, 9] });
 * const query = samplesOf(ds, 'query'); // 500 images, camid 0
 * ```
 */
export async function loadDataset(root: string, opts: LoadDatasetOptions = {}): Promise<Dataset> {
  const abs = path.resolve(root);
  const kind = await kindOf(abs);
  if (kind === undefined) throw new PulError('dataset.notFound', `dataset path ${abs} does not exist`, { file: abs });
  const format = opts.format ?? (await detectFormat(abs));
  const dataset = await DATASET_LOADERS[format](abs, opts);
  if (dataset.samples.length === 0) throw new PulError('dataset.empty', `${abs} (${format}) holds no usable images`, { file: abs });
  return dataset;
}

async function csvFiles(root: string): Promise<string[]> {
  return (await listDir(root)).filter((n) => /\.csv$/i.test(n));
}

async function csvIn(root: string): Promise<string> {
  const files = await csvFiles(root);
  const pick = files.includes('manifest.csv') ? 'manifest.csv' : files.length === 1 ? files[0] : undefined;
  if (pick === undefined) {
    throw new PulError('dataset.unknownLayout', files.length === 0 ? `${root} has no .csv manifest` : `${root} has several .csv files (${firstNames(files)}); name one, or call it manifest.csv`, {
      file: root,
    });
  }
  return path.join(root, pick);
}

/** Parses a label list: `5-9` → [5, 6, 7, 8, 9], `0,2,4` → [0, 2, 4] (mixes allowed: `0-2,7`). */
export function parseClassList(value: string): number[] {
  const out = new Set<number>();
  for (const part of value.split(',')) {
    const m = /^\s*(\d+)\s*(?:-\s*(\d+)\s*)?$/.exec(part);
    const lo = Number(m?.[1]);
    const hi = m?.[2] === undefined ? lo : Number(m[2]);
    if (!m || hi < lo) throw new PulError('option.invalid', `class list "${value}": "${part}" is not a label or a range lo-hi (e.g. 5-9 or 0,2,4)`, { option: 'data.classes' });
    for (let c = lo; c <= hi; c++) out.add(c);
  }
  return [...out].sort((a, b) => a - b);
}
