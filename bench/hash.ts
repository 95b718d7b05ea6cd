/**
 * npm run bench:hash — Hamming ranking of 64-bit codes against float (cosine) ranking on the Market-sized
 * case, 3 368 queries × 15 913 gallery items. Synthetic, generated here (no data needed): 751
 * identities on 6 cameras, each image its identity's random centre plus noise, as 128-d and 2048-d
 * floats; the 64-bit codes are SimHash codes of the 128-d features (sign of 64 fixed random projections),
 * so both rankings see the same identities. Times the whole query set, two ways: distances alone, and
 * distances + the Market-1501 ranking and metrics (evaluateFeatures / evaluateCodes); best of `--repeats`
 * (default 3). The float side runs on the selected tfjs backend (wasm with pul's native GEMM when built);
 * the Hamming side on the native popcount kernel (its best path here: distances alone, then distances and
 * the counting rank fused per query, no distance matrix) and, for reference, in JS.
 */
import { Rng, evaluateCodes, evaluateFeatures, featureMatrix, hammingDistanceBlocks, l2Normalize, packSigns, resolveHammingPath, selectBackend, type FeatureMatrix, type HammingPath, type IndexRow } from '../src/index.js';
import { distanceBlocks } from '../src/evaluation/distance.js';
import { table } from './peers.js';

const QUERIES = 3368;
const GALLERY = 15913;
const IDENTITIES = 751;
const BITS = 64;

interface Case {
  readonly index: { query: IndexRow[]; gallery: IndexRow[] };
  readonly pids: { query: Int32Array; gallery: Int32Array };
}

function makeCase(rng: Rng): Case {
  const pick = (n: number, camOffset: number) => {
    const pids = Int32Array.from({ length: n }, () => 1 + rng.int(IDENTITIES));
    const index = Array.from(pids, (pid, i) => ({ path: `${i}`, pid, camid: 1 + ((rng.int(6) + camOffset) % 6) }));
    return { pids, index };
  };
  const q = pick(QUERIES, 0);
  const g = pick(GALLERY, 3);
  return { index: { query: q.index, gallery: g.index }, pids: { query: q.pids, gallery: g.pids } };
}

/** Each row: its identity's centre (dim-d, N(0, 1)) plus N(0, noise²) noise. */
function features(rng: Rng, pids: Int32Array, centres: Float32Array, dim: number, noise: number): FeatureMatrix {
  const data = new Float32Array(pids.length * dim);
  for (let i = 0; i < pids.length; i++) for (let j = 0; j < dim; j++) data[i * dim + j] = centres[pids[i]! * dim + j]! + noise * rng.normal();
  return featureMatrix(pids.length, dim, data);
}

/** sign(x · P) for a fixed dim × bits Gaussian P (SimHash: Hamming distance tracks the angle). */
function simHash(m: FeatureMatrix, projection: Float32Array): FeatureMatrix {
  const out = new Float32Array(m.rows * BITS);
  for (let i = 0; i < m.rows; i++)
    for (let k = 0; k < BITS; k++) {
      let s = 0;
      for (let j = 0; j < m.dim; j++) s += m.data[i * m.dim + j]! * projection[j * BITS + k]!;
      out[i * BITS + k] = s;
    }
  return featureMatrix(m.rows, BITS, out);
}

function best(repeats: number, fn: () => void): number {
  let min = Infinity;
  for (let r = 0; r < repeats; r++) {
    const t = performance.now();
    fn();
    min = Math.min(min, (performance.now() - t) / 1000);
  }
  return min;
}

/** Consumes every block (a checksum keeps the work from being skipped). */
function drain(blocks: Iterable<{ data: Float32Array }>): number {
  let sum = 0;
  for (const b of blocks) sum += b.data[0]! + b.data[b.data.length - 1]!;
  return sum;
}

async function main(): Promise<void> {
  const at = process.argv.indexOf('--repeats');
  const repeats = at > 0 ? Number(process.argv[at + 1]) : 3;
  const info = await selectBackend();
  const rng = new Rng(15);
  const c = makeCase(rng);
  process.stderr.write('generating the synthetic case …\n');
  const floats = new Map<number, { query: FeatureMatrix; gallery: FeatureMatrix }>();
  for (const dim of [128, 2048]) {
    const centres = Float32Array.from({ length: (IDENTITIES + 1) * dim }, () => rng.normal());
    floats.set(dim, { query: features(rng, c.pids.query, centres, dim, 1.2), gallery: features(rng, c.pids.gallery, centres, dim, 1.2) });
  }
  const f128 = floats.get(128)!;
  const projection = Float32Array.from({ length: 128 * BITS }, () => rng.normal());
  const codes = { query: packSigns(simHash(f128.query, projection)), gallery: packSigns(simHash(f128.gallery, projection)) };
  const native = resolveHammingPath();
  const hammingPaths: HammingPath[] = native === 'js' ? ['js'] : [native, 'js'];

  const rows: (string | number)[][] = [];
  const reportOf = (r: { mAP: number; cmc: readonly number[] }) => [r.mAP, r.cmc[0]!];
  const timings: Record<string, number> = {};
  for (const path of hammingPaths) {
    process.stderr.write(`Hamming (${path}) …\n`);
    const d = best(repeats, () => drain(hammingDistanceBlocks(codes.query, codes.gallery, { path })));
    let report = { mAP: 0, cmc: [0] as readonly number[] };
    const e = best(repeats, () => (report = evaluateCodes({ codes: codes.query, index: c.index.query }, { codes: codes.gallery, index: c.index.gallery }, { path })));
    timings[`hamming-${path}`] = d;
    timings[`hamming-${path}-eval`] = e;
    rows.push([`${BITS}-bit codes, Hamming (${path})`, d, e, ...reportOf(report)]);
  }
  for (const [dim, f] of floats) {
    process.stderr.write(`cosine ${dim}-d …\n`);
    const q = l2Normalize(f.query);
    const g = l2Normalize(f.gallery);
    const d = best(repeats, () => drain(distanceBlocks(q, g, { metric: 'cosine' })));
    let report = { mAP: 0, cmc: [0] as readonly number[] };
    const e = best(repeats, () => (report = evaluateFeatures({ features: f.query, index: c.index.query }, { features: f.gallery, index: c.index.gallery })));
    timings[`float-${dim}`] = d;
    timings[`float-${dim}-eval`] = e;
    rows.push([`${dim}-d floats, cosine (${info.backend})`, d, e, ...reportOf(report)]);
  }
  const h = `hamming-${hammingPaths[0]}`;
  process.stdout.write(`Market-sized case ${QUERIES} × ${GALLERY}, synthetic (${IDENTITIES} ids, 6 cameras); best of ${repeats}; seconds for the whole query set\n`);
  process.stdout.write(`${table(['ranking', 'distances s', 'distances + ranking + metrics s', 'mAP', 'rank-1'], rows)}\n`);
  for (const dim of [128, 2048]) {
    process.stdout.write(
      `float ${dim}-d / Hamming ${BITS}-bit (${hammingPaths[0]}): distances ${(timings[`float-${dim}`]! / timings[h]!).toFixed(1)}×, with ranking + metrics ${(timings[`float-${dim}-eval`]! / timings[`${h}-eval`]!).toFixed(1)}×\n`,
    );
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
