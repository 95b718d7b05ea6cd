/**
 * A clustering on disk: `assignments.csv` (header `row,cluster,path`, one line per feature row, in the
 * feature folder's order; cluster −1 = noise, a row a density method left without a pseudo-label) and
 * `centroids.npy` (K × dim float32). Each file is written atomically, after
 * all of it is computed, so a failure leaves earlier outputs intact.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import { PulError } from '../core/errors.js';
import { writeFileAtomic } from '../core/atomic-fs.js';
import { formatCsv, parseCsv } from '../core/csv.js';
import type { FeatureMatrix } from '../features/feature-matrix.js';
import { encodeNpy, readNpy } from '../features/features-npy.js';

/** Row → cluster of a cluster folder. */
export const ASSIGNMENTS_FILE = 'assignments.csv';
/** The K centroids of a cluster folder. */
export const CENTROIDS_FILE = 'centroids.npy';

/** A clustering as read back: what selection needs. */
export interface ClusterFiles {
  readonly k: number;
  /** Entries in [0, k), or −1 for noise. */
  readonly assignment: Int32Array;
  readonly centroids: FeatureMatrix;
  /** Count of −1 rows (read back: always set). */
  readonly noise?: number;
}

export async function writeClusterFiles(dir: string, clustering: ClusterFiles, paths?: readonly string[]): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  const csv = formatCsv(['row', 'cluster', 'path'], Array.from(clustering.assignment, (cluster, i) => [i, cluster, paths?.[i] ?? '']));
  const npy = encodeNpy(clustering.centroids);
  await writeFileAtomic(path.join(dir, CENTROIDS_FILE), npy);
  await writeFileAtomic(path.join(dir, ASSIGNMENTS_FILE), csv);
}

/** Reads `dir`'s assignments.csv and centroids.npy, checking that every cluster id is in [0, K) or −1 (noise). */
export async function readClusterFiles(dir: string): Promise<ClusterFiles> {
  const centroids = await readNpy(path.join(dir, CENTROIDS_FILE));
  const file = path.join(dir, ASSIGNMENTS_FILE);
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw new PulError('clustering.invalid', `cannot read ${file}: ${(err as Error).message}`, { file }, { cause: err });
  }
  const records = parseCsv(text, file);
  if (records[0]?.fields[0] !== 'row' || records[0].fields[1] !== 'cluster') throw new PulError('csv.missingColumn', `${file} must start with the header row,cluster,path`, { file, line: 1 });
  const out: number[] = [];
  for (const { fields, line } of records.slice(1)) {
    const [rowText = '', clusterText = ''] = fields;
    const row = /^\d+$/.test(rowText) ? Number(rowText) : NaN;
    const cluster = /^-?\d+$/.test(clusterText) ? Number(clusterText) : NaN;
    if (row !== out.length || Number.isNaN(cluster)) throw new PulError('csv.malformedLine', `${file} line ${line}: expected "${out.length},<cluster>,<path>", got "${fields.join(',').slice(0, 60)}"`, { file, line });
    if (cluster < -1 || cluster >= centroids.rows) throw new PulError('clustering.invalid', `${file} line ${line}: cluster ${cluster} is outside [0, ${centroids.rows}) and is not −1 (noise) (centroids.npy holds ${centroids.rows})`, { file, line });
    out.push(cluster);
  }
  return { k: centroids.rows, assignment: Int32Array.from(out), centroids, noise: out.filter((c) => c === -1).length };
}
