/**
 * npm run bench:cluster — pul's k-means beside scikit-learn's (../shared/peers/kmeans_ref.py, run in the
 * same session on a temp copy of the peers folder, else its recorded figures) on the three shapes:
 * seconds for greedy k-means++ seeding, per Lloyd iteration and in total (seeding + ≤ 20 iterations,
 * tol 0), as ratios pul / sklearn. Data are K gaussian blobs generated like kmeans_ref.py's make_data
 * (same distribution, our Rng). Then the correctness check: from sklearn's own initial centres on
 * kmeans_30000x128x50.bin, Lloyd must reach sklearn's inertia in the same number of iterations.
 * Set PUL_BENCH_RECORDED=1 to skip running sklearn.
 */
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Rng, featureMatrix, kmeans, selectBackend, describeBackend, type FeatureMatrix } from '../src/index.js';
import { inertiaOf } from '../src/clustering/clustering.js';
import { PEERS_DIR, peersAvailable, recordedPeer, runPeer, table } from './peers.js';
import { readPeerbin } from './peerbin.js';

interface SkResult {
  N: number;
  D: number;
  K: number;
  n_iter: number;
  s_per_iter: number;
  marginal_s_per_iter: number | null;
  lloyd_s: number;
  init_s: number;
  total_s: number;
  inertia: number;
}

const ALL_SHAPES: readonly [number, number, number][] = [
  [12936, 2048, 750],
  [12936, 256, 750],
  [30000, 128, 50],
];
/** PUL_BENCH_QUICK=1 (npm run bench -- --quick): without the 2048-d shape. */
const SHAPES = process.env['PUL_BENCH_QUICK'] === '1' ? ALL_SHAPES.filter(([, d]) => d !== 2048) : ALL_SHAPES;

/** kmeans_ref.py's make_data: centres N(0, I)·sep·√(2/D)/√D, uniform labels, noise N(0, I)/√D. */
function makeData(n: number, d: number, k: number, seed: number, sep = 3): FeatureMatrix {
  const rng = new Rng(seed);
  const scale = (sep * Math.sqrt(2 / d)) / Math.sqrt(d);
  const centres = Float32Array.from({ length: k * d }, () => rng.normal() * scale);
  const data = new Float32Array(n * d);
  const noise = 1 / Math.sqrt(d);
  for (let i = 0; i < n; i++) {
    const l = rng.int(k);
    for (let t = 0; t < d; t++) data[i * d + t] = centres[l * d + t]! + rng.normal() * noise;
  }
  return featureMatrix(n, d, data);
}

async function sklearnFigures(work: string | null): Promise<{ results: SkResult[]; source: string }> {
  if (work && process.env['PUL_BENCH_RECORDED'] !== '1') {
    try {
      const shapes = SHAPES.map((s) => s.join('x')).join(',');
      const r = await runPeer<{ results: SkResult[] }>(path.join(work, 'kmeans_ref.py'), ['--repeats', '1', '--shapes', shapes], work);
      return { results: r.results, source: `measured now (kmeans_ref.py --repeats 1 --shapes ${shapes})` };
    } catch (err) {
      process.stderr.write(`could not run kmeans_ref.py now (${(err as Error).message.split('\n')[0]}); using the recorded figures\n`);
    }
  }
  return { results: recordedPeer<{ results: SkResult[] }>('kmeans').results, source: 'recorded (peers/results/kmeans.json, RESULTS.md §2)' };
}

async function main(): Promise<void> {
  const info = await selectBackend('wasm');
  process.stdout.write(`${describeBackend(info)}\n(the machine is shared: ratios are only meaningful within one run)\n`);
  const work = peersAvailable() ? mkdtempSync(path.join(os.tmpdir(), 'pul-peers-')) : null;
  try {
    if (work) cpSync(PEERS_DIR, work, { recursive: true });
    process.stdout.write('running scikit-learn (kmeans_ref.py) first …\n');
    const sk = await sklearnFigures(work);
    process.stdout.write(`scikit-learn: ${sk.source}\n`);
    const rows: (string | number)[][] = [];
    for (const [n, d, k] of SHAPES) {
      const x = makeData(n, d, k, 0);
      const c = kmeans(x, { k, maxIterations: 20, tol: 0 }, new Rng(0));
      const perIter = c.iterationSeconds / c.iterations;
      const total = c.seedSeconds + c.iterationSeconds;
      const ref = sk.results.find((r) => r.N === n && r.D === d && r.K === k);
      const skPer = ref ? ref.s_per_iter : NaN;
      rows.push([
        `${n}×${d} K=${k}`,
        c.seedSeconds, ref?.init_s ?? NaN, c.iterations, ref?.n_iter ?? NaN, perIter, skPer, total, ref?.total_s ?? NaN,
        `${(c.seedSeconds / (ref?.init_s ?? NaN)).toFixed(2)}×`, `${(perIter / skPer).toFixed(2)}×`, `${(total / (ref?.total_s ?? NaN)).toFixed(2)}×`,
      ]);
      process.stdout.write(`  ${n}×${d} K=${k}: seed ${c.seedSeconds.toFixed(3)} s, ${c.iterations} iterations ${c.iterationSeconds.toFixed(3)} s, inertia ${c.inertia.toFixed(2)}\n`);
    }
    process.stdout.write(`\n${table(['shape', 'seed s', 'sk seed s', 'iters', 'sk iters', 's/iter', 'sk s/iter', 'total s', 'sk total s', 'seed ratio', 'iter ratio', 'total ratio'], rows)}\n`);
    process.stdout.write('(ratios pul / sklearn; < 1× means pul is faster; sk s/iter = Lloyd fit seconds / n_iter, as RESULTS.md)\n\n');

    const candidates = [work && path.join(work, 'data', 'kmeans_30000x128x50.bin'), path.join(PEERS_DIR, 'data', 'kmeans_30000x128x50.bin'), '/tmp/peers/data/kmeans_30000x128x50.bin'];
    const file = candidates.find((f): f is string => typeof f === 'string' && existsSync(f));
    if (!file) {
      process.stdout.write('correctness: kmeans_30000x128x50.bin not found (needs sklearn: run kmeans_ref.py); skipped\n');
      return;
    }
    const { meta, arrays } = readPeerbin(file);
    const [n, d] = arrays['X']!.shape as [number, number];
    const k = arrays['init_centers']!.shape[0]!;
    const x = featureMatrix(n, d, arrays['X']!.data as Float32Array);
    const c = kmeans(x, { k, init: featureMatrix(k, d, arrays['init_centers']!.data as Float32Array), maxIterations: Number(meta['max_iter']), tol: 0 }, new Rng(0));
    const skLabels = arrays['sk_labels']!.data as Int32Array;
    let agree = 0;
    for (let i = 0; i < n; i++) if (skLabels[i] === c.assignment[i]) agree++;
    const skInertia64 = inertiaOf(x, arrays['sk_centers']!.data as Float32Array, skLabels);
    const rel = Math.abs(c.inertia - Number(meta['sk_inertia'])) / Number(meta['sk_inertia']);
    process.stdout.write(
      `correctness (${path.basename(file)}, sklearn ${String(meta['sklearn'])}): iterations ${c.iterations} vs sklearn ${String(meta['sk_n_iter'])}; ` +
        `inertia ${c.inertia.toFixed(2)} (float64) vs sklearn ${Number(meta['sk_inertia']).toFixed(2)} (float32; its centres in float64: ${skInertia64.toFixed(2)}), relative ${rel.toExponential(1)}; ` +
        `labels equal to sklearn's on ${agree} / ${n} rows\n`,
    );
    if (c.iterations !== Number(meta['sk_n_iter']) || rel > 1e-5 || agree !== n) process.exitCode = 1;
  } finally {
    if (work) rmSync(work, { recursive: true, force: true });
  }
}

await main();
