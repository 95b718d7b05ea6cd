/**
 * Feature files for interchange with numpy / Python re-ID tools (PROTOCOLS.md): a folder holding
 * `features.npy` (NumPy format v1.0, little-endian float32, shape (N, D), C order) and `index.csv`
 * (header path,pid,camid[,split], one row per feature row, same order; an empty pid = unlabelled).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PulError } from '../core/errors.js';
import { writeDirAtomic, writeFileAtomic } from '../core/atomic-fs.js';
import { formatCsv, parseCsv } from '../core/csv.js';
import { assertFinite, type FeatureMatrix } from './feature-matrix.js';

/** The matrix of a feature folder. */
export const FEATURES_FILE = 'features.npy';
/** The row index of a feature folder (path, pid, camid[, split]). */
export const INDEX_FILE = 'index.csv';

/** The split an index.csv row came from. */
export type IndexSplit = 'train' | 'query' | 'gallery';

/** One row of index.csv: where a feature row came from. */
export interface IndexRow {
  readonly path: string;
  readonly pid: number | null;
  readonly camid: number;
  readonly split?: IndexSplit;
  /** When the image was taken, in the user's unit (frame, seconds); an optional `time` column. */
  readonly time?: number;
}

/** A feature folder in memory: the matrix and one index row per matrix row. */
export interface FeatureFolder {
  readonly features: FeatureMatrix;
  readonly index: readonly IndexRow[];
}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/**
 * The bytes of a .npy v1.0 file holding `m` as float32 (N, D).
 * @example
 * await writeFile('x.npy', encodeNpy(featureMatrix(2, 2, Float32Array.of(1, 0, 0, 1))));
 */
export function encodeNpy(m: FeatureMatrix): Buffer {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${m.rows}, ${m.dim}), }`;
  // magic (6) + version (2) + header length (2) + header, padded with spaces and ending in '\n' to a multiple of 64
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const head = Buffer.alloc(10);
  MAGIC.copy(head, 0);
  head[6] = 1;
  head[7] = 0;
  head.writeUInt16LE(header.length, 8);
  const body = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}

/**
 * Parses a .npy file (v1.0, v2.0 or v3.0) holding a 2-D little-endian float32 array in C order;
 * anything else is a `features.malformed` error naming `file` and the rule broken.
 * @example
 * const m = decodeNpy(await readFile('x.npy'), 'x.npy'); // m.rows, m.dim, m.data
 */
export function decodeNpy(bytes: Buffer, file: string): FeatureMatrix {
  const { rows, dim, dataStart } = parseNpyHeader(bytes, bytes.length, file);
  // Copy into an aligned Float32Array (the buffer's offset need not be a multiple of 4).
  const data = new Float32Array(rows * dim);
  Buffer.from(data.buffer).set(bytes.subarray(dataStart));
  return { rows, dim, data };
}

/**
 * Shape and data offset of a .npy file of `fileLength` bytes from its first bytes (`head`, at least the
 * magic string, version, header length and header); errors name `file`.
 */
function parseNpyHeader(head: Buffer, fileLength: number, file: string): { rows: number; dim: number; dataStart: number } {
  const fail = (why: string): never => {
    throw new PulError('features.malformed', `${file} is not a usable .npy feature file: ${why}`, { file });
  };
  if (head.length < 10 || !head.subarray(0, 6).equals(MAGIC)) fail('no NumPy magic string');
  const major = head[6]!;
  if (major < 1 || major > 3) fail(`unsupported format version ${major}.${head[7]}`);
  const headerLength = major === 1 ? head.readUInt16LE(8) : head.length >= 12 ? head.readUInt32LE(8) : fail('truncated header');
  const headerStart = major === 1 ? 10 : 12;
  if (head.length < headerStart + headerLength) fail('truncated header');
  const header = head.subarray(headerStart, headerStart + headerLength).toString(major === 3 ? 'utf8' : 'latin1');
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1] ?? fail(`no 'descr' in header ${header.trim()}`);
  if (descr !== '<f4' && descr !== '=f4') fail(`dtype ${descr}; pul reads little-endian float32 ('<f4') — convert with arr.astype('<f4')`);
  if (/'fortran_order':\s*True/.test(header)) fail('Fortran (column-major) order; save a C-ordered array (np.ascontiguousarray)');
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? fail(`no 'shape' in header ${header.trim()}`);
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (shape.length !== 2 || !shape.every((n) => Number.isInteger(n) && n >= 0)) fail(`shape (${shapeText}); expected (N, D)`);
  const [rows, dim] = shape as [number, number];
  const dataStart = headerStart + headerLength;
  const expected = rows * dim * 4;
  if (fileLength - dataStart !== expected) fail(`shape (${rows}, ${dim}) needs ${expected} bytes of data, the file has ${fileLength - dataStart}`);
  return { rows, dim, dataStart };
}

/**
 * Reads a 2-D float32 .npy file (v1–3, C order) as a FeatureMatrix. The data are read straight into the
 * matrix (no whole-file buffer and copy: a 234 MB feature file read ~0.5 s faster, half the peak memory).
 */
export async function readNpy(file: string): Promise<FeatureMatrix> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, 'r');
    const { size } = await handle.stat();
    // the header: 10–12 bytes, then its length (v1: < 64 KiB; v2/3 may be longer, read again below)
    let head = Buffer.alloc(Math.min(size, 1 << 16));
    await readFully(handle, head, 0);
    if (head.length >= 12 && head[6]! >= 2 && head.readUInt32LE(8) + 12 > head.length && head.readUInt32LE(8) + 12 <= size) {
      head = Buffer.alloc(head.readUInt32LE(8) + 12);
      await readFully(handle, head, 0);
    }
    const { rows, dim, dataStart } = parseNpyHeader(head, size, file);
    const data = new Float32Array(rows * dim);
    await readFully(handle, Buffer.from(data.buffer), dataStart);
    return { rows, dim, data };
  } catch (err) {
    if (err instanceof PulError) throw err;
    throw new PulError('features.malformed', `cannot read ${file}: ${(err as Error).message}`, { file }, { cause: err });
  } finally {
    await handle?.close();
  }
}

/** Fills `into` from the file at `position` (short reads continue; the file must be long enough). */
async function readFully(handle: fs.FileHandle, into: Buffer, position: number): Promise<void> {
  for (let off = 0; off < into.length; ) {
    const { bytesRead } = await handle.read(into, off, Math.min(into.length - off, 1 << 26), position + off);
    if (bytesRead === 0) throw new Error(`the file ends at byte ${position + off}`);
    off += bytesRead;
  }
}

/** Writes a FeatureMatrix as a .npy v1.0 file (atomically). */
export async function writeNpy(file: string, m: FeatureMatrix): Promise<void> {
  await writeFileAtomic(file, encodeNpy(m));
}

const SPLITS: readonly string[] = ['train', 'query', 'gallery'];

/** Parses index.csv; errors name the file and line. */
export function parseIndexCsv(text: string, file: string): IndexRow[] {
  const records = parseCsv(text, file);
  const header = records[0]?.fields;
  if (header === undefined) throw new PulError('csv.missingColumn', `${file} is empty: expected a header path,pid,camid[,split]`, { file });
  const column = (name: string) => header.indexOf(name);
  for (const name of ['path', 'pid', 'camid']) {
    if (column(name) < 0) throw new PulError('csv.missingColumn', `${file}: the header has no '${name}' column (found: ${header.join(',')})`, { file, line: 1 });
  }
  const [pathAt, pidAt, camAt, splitAt, timeAt] = [column('path'), column('pid'), column('camid'), column('split'), column('time')];
  return records.slice(1).map(({ fields: record, line }) => {
    const bad = (why: string): never => {
      throw new PulError('csv.malformedLine', `${file}:${line}: ${why}`, { file, line });
    };
    const pidText = record[pidAt] ?? '';
    const pid = pidText === '' ? null : Number(pidText);
    if (pid !== null && !Number.isInteger(pid)) bad(`pid '${pidText}' is not an integer`);
    const camText = record[camAt] ?? '';
    const camid = Number(camText);
    if (camText === '' || !Number.isInteger(camid)) bad(`camid '${camText}' is not an integer`);
    const split = splitAt >= 0 ? record[splitAt] : undefined;
    if (split !== undefined && split !== '' && !SPLITS.includes(split)) bad(`split '${split}' is not one of ${SPLITS.join(', ')}`);
    const timeText = timeAt >= 0 ? (record[timeAt] ?? '') : '';
    const time = Number(timeText);
    if (timeText !== '' && !Number.isFinite(time)) bad(`time '${timeText}' is not a number`);
    return { path: record[pathAt] ?? '', pid, camid, ...(split ? { split: split as IndexSplit } : {}), ...(timeText !== '' ? { time } : {}) };
  });
}

export function formatIndexCsv(rows: readonly IndexRow[]): string {
  const withSplit = rows.some((r) => r.split !== undefined);
  const withTime = rows.some((r) => r.time !== undefined);
  const header = ['path', 'pid', 'camid', ...(withSplit ? ['split'] : []), ...(withTime ? ['time'] : [])];
  return formatCsv(header, rows.map((r) => [r.path, r.pid ?? '', r.camid, ...(withSplit ? [r.split ?? ''] : []), ...(withTime ? [r.time ?? ''] : [])]));
}

/**
 * Reads a feature folder (`features.npy` + `index.csv`) and checks that it is consistent (row counts,
 * finite values); errors name the file.
 * @example
 * const { features, index } = await readFeatureFolder('out/query'); // e.g. written by numpy: np.save(…, x.astype('<f4'))
 */
export async function readFeatureFolder(dir: string): Promise<FeatureFolder> {
  const npyFile = path.join(dir, FEATURES_FILE);
  await assertFolder(dir, FEATURES_FILE);
  const features = await readNpy(npyFile);
  const index = await readFolderIndex(dir, features.rows, npyFile);
  assertFinite(features, npyFile);
  return { features, index };
}

/** Throws dataset.notFound unless `dir` is a folder (`holds` names what it should contain). */
export async function assertFolder(dir: string, holds: string): Promise<void> {
  try {
    const stat = await fs.stat(dir);
    if (!stat.isDirectory()) throw new Error('not a directory');
  } catch {
    throw new PulError('dataset.notFound', `feature folder ${dir} does not exist (expected ${holds} and ${INDEX_FILE} in it)`, { file: dir });
  }
}

/** The index.csv of a feature folder, which must have `rows` rows like its data file `dataFile`. */
export async function readFolderIndex(dir: string, rows: number, dataFile: string): Promise<IndexRow[]> {
  const csvFile = path.join(dir, INDEX_FILE);
  let text: string;
  try {
    text = await fs.readFile(csvFile, 'utf8');
  } catch (err) {
    throw new PulError('features.malformed', `cannot read ${csvFile}: ${(err as Error).message}`, { file: csvFile }, { cause: err });
  }
  const index = parseIndexCsv(text, csvFile);
  if (index.length !== rows) {
    throw new PulError('features.mismatch', `${csvFile} has ${index.length} rows but ${dataFile} has ${rows}: they must describe the same samples in the same order`, { file: csvFile });
  }
  return index;
}

/**
 * Writes a feature folder atomically (a previous folder is replaced only once the new one is complete).
 * @example
 * await writeFeatureFolder('out/query', { features: featureMatrix(1, 2, Float32Array.of(0.6, 0.8)), index: [{ path: 'q/0001_c1s1_000151_01.jpg', pid: 1, camid: 1 }] });
 * // in Python: np.load('out/query/features.npy'), pandas.read_csv('out/query/index.csv')
 */
export async function writeFeatureFolder(dir: string, folder: FeatureFolder): Promise<void> {
  checkRows(dir, folder);
  await writeDirAtomic(dir, (tmp) => writeFeatureFiles(tmp, folder));
}

/** Writes features.npy and index.csv into the existing folder `dir` (e.g. the temp folder of an atomic write). */
export async function writeFeatureFiles(dir: string, folder: FeatureFolder): Promise<void> {
  checkRows(dir, folder);
  await fs.writeFile(path.join(dir, FEATURES_FILE), encodeNpy(folder.features));
  await fs.writeFile(path.join(dir, INDEX_FILE), formatIndexCsv(folder.index));
}

function checkRows(dir: string, folder: FeatureFolder): void {
  if (folder.index.length !== folder.features.rows) {
    throw new PulError('features.mismatch', `cannot write ${dir}: ${folder.index.length} index rows for ${folder.features.rows} feature rows`, { file: dir });
  }
}
