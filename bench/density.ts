/**
 * npm run bench:density — the cluster stage of Cluster-Contrast (k-reciprocal Jaccard distance + DBSCAN,
 * k1 30, k2 6, eps 0.6, minPts 4) on 60 000 × 128 L2-normalised features, the fmnist-unsup shape:
 * seconds per step and the peak RSS. Features are synthetic identities (Gaussian blobs on the sphere,
 * sizes 10–80, plus 5 % scattered rows), or with `--pixels <fashion-mnist dir>` the train images' pixels (IDX, raw or .gz)
 * projected by PCA to 128. Options: --rows N, --dim D, --threads T.
 */
import { existsSync, readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { Rng, clusterByDensity, featureMatrix, fitPca, l2Normalize, projectPca, type FeatureMatrix } from '../src/index.js';
import { loadNativeKernels } from '../src/backend/native.js';

function option(name: string, fallback: string): string {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 && process.argv[at + 1] !== undefined ? process.argv[at + 1]! : fallback;
}

/** Identities of 10–80 rows around random unit centres (spread 0.35 per unit dimension), 5 % scattered rows. */
function syntheticIdentities(rows: number, dim: number, seed: number): FeatureMatrix {
  const rng = new Rng(seed);
  const data = new Float32Array(rows * dim);
  let r = 0;
  const scattered = Math.round(rows * 0.05);
  const spread = 0.35 / Math.sqrt(dim);
  while (r < rows - scattered) {
    const size = Math.min(rows - scattered - r, 10 + rng.int(71));
    const centre = Float32Array.from({ length: dim }, () => rng.normal() / Math.sqrt(dim));
    for (let s = 0; s < size; s++, r++) for (let t = 0; t < dim; t++) data[r * dim + t] = centre[t]! + spread * rng.normal();
  }
  for (; r < rows; r++) for (let t = 0; t < dim; t++) data[r * dim + t] = rng.normal();
  return l2Normalize(featureMatrix(rows, dim, data));
}

/** Fashion-MNIST train pixels (IDX, [0, 1]) projected by PCA to `dim`, L2-normalised. */
function fashionPixels(dir: string, rows: number, dim: number): FeatureMatrix {
  const file = path.join(dir, 'train-images-idx3-ubyte');
  // Debian's dataset-fashion-mnist ships the IDX files gzipped
  const bytes = existsSync(file) ? readFileSync(file) : gunzipSync(readFileSync(`${file}.gz`));
  const n = Math.min(rows, bytes.readUInt32BE(4));
  const size = bytes.readUInt32BE(8) * bytes.readUInt32BE(12);
  const pixels = featureMatrix(n, size, Float32Array.from(bytes.subarray(16, 16 + n * size), (b) => b / 255));
  const pca = fitPca(pixels, dim);
  return l2Normalize(projectPca(pca, pixels));
}

const rows = Number(option('rows', '60000'));
const dim = Number(option('dim', '128'));
const threads = Number(option('threads', '2'));
const native = loadNativeKernels(threads);
const pixels = option('pixels', '');
const features = pixels !== '' ? fashionPixels(pixels, rows, dim) : syntheticIdentities(rows, dim, 16);
const before = process.memoryUsage().rss;
const cpu = process.cpuUsage();
const result = clusterByDensity(features, {});
const used = process.cpuUsage(cpu);
const s = result.seconds;
const mb = (b: number) => (b / 2 ** 20).toFixed(0);
console.log(`features ${pixels !== '' ? `Fashion-MNIST pixels → PCA ${dim}` : 'synthetic identities'}: ${features.rows} × ${features.dim}, native ${native.status.loaded ? `${native.status.threads} threads` : `absent (${native.status.reason})`}`);
console.log(`clusters ${result.k}, noise ${result.noise}`);
console.log(`seconds: neighbours ${s.neighbours.toFixed(1)}, jaccard ${s.jaccard.toFixed(1)}, dbscan ${s.dbscan.toFixed(2)}, total ${s.total.toFixed(1)}`);
console.log(`CPU seconds of the process during clustering (all threads): user ${(used.user / 1e6).toFixed(1)}, system ${(used.system / 1e6).toFixed(1)}`);
console.log(`RSS before clustering ${mb(before)} MB; peak RSS of the process ${mb(process.resourceUsage().maxRSS * 1024)} MB`);
