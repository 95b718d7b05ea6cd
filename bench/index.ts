/**
 * npm run bench:index -- [--out DIR] [--only recall,scale,serve] [--rows 100000] [--seconds 20] [--clients 8]
 *
 * The gallery index's goals, on synthetic data generated here (identities = random centres + noise,
 * 6 cameras), embedded PGlite in a temporary folder:
 * - recall: HNSW recall@10 against exact search on the Market-sized gallery (15 913 × 256), and the
 *   Market-1501 mAP through the index (evaluateIndex, depth 100) against evaluateFeatures (3 368 queries);
 * - scale: insert rate (rows/s, binary COPY in 2 000-row transactions), HNSW build time, and the latency
 *   of top-10 queries with a camera filter (p50/p99) on `--rows` × 256 rows (default 100 000);
 * - serve: `pul serve` of a `reid`-net checkpoint as a child process on 127.0.0.1, a bounded load test
 *   (`--clients` concurrent clients for `--seconds`, then it stops) posting 64×128 JPEGs: queries/s, p50/p99.
 * Writes index.json and index.md to --out (default bench/results). Figures depend on the machine's load:
 * the report records the cores and the load average at the start.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import {
  GalleryIndex, MODEL_PRESETS, Rng, buildModel, disposeModel, evaluateFeatures, evaluateIndex, featureMatrix, featureSource, loadIntoIndex, openDatabase, saveCheckpoint, selectBackend, weightsFingerprint, loadCheckpoint,
  type FeatureMatrix, type IndexRow,
} from '../src/index.js';
import { table } from './peers.js';

const arg = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? (process.argv[at + 1] ?? fallback) : fallback;
};
const OUT = arg('out', 'bench/results');
const ONLY = new Set(arg('only', 'recall,scale,serve').split(','));
const ROWS = Number(arg('rows', '100000'));
const SECONDS = Number(arg('seconds', '20'));
const CLIENTS = Number(arg('clients', '8'));
const DIM = 256;
const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');

function synthetic(rng: Rng, rows: number, ids: number, centres: Float32Array, dim: number, prefix: string): { features: FeatureMatrix; index: IndexRow[] } {
  const data = new Float32Array(rows * dim);
  const index: IndexRow[] = [];
  for (let i = 0; i < rows; i++) {
    const pid = 1 + rng.int(ids);
    for (let d = 0; d < dim; d++) data[i * dim + d] = centres[pid * dim + d]! + 1.2 * rng.normal();
    index.push({ path: `${prefix}/${i}.jpg`, pid, camid: 1 + rng.int(6) });
  }
  return { features: featureMatrix(rows, dim, data), index };
}

function centresOf(rng: Rng, ids: number, dim: number): Float32Array {
  return Float32Array.from({ length: (ids + 1) * dim }, () => rng.normal());
}

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function withDb<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pul-bench-index-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function recall(): Promise<Record<string, number>> {
  const rng = new Rng(1);
  const centres = centresOf(rng, 751, DIM);
  const gallery = synthetic(rng, 15_913, 751, centres, DIM, 'g');
  const query = synthetic(rng, 3_368, 751, centres, DIM, 'q');
  return withDb(async (dir) => {
    const db = await openDatabase(path.join(dir, 'market.db'), { create: true });
    try {
      const index = await GalleryIndex.create(db, { dim: DIM, metric: 'cosine', model: null });
      const load = await loadIntoIndex(index, [featureSource('gallery', gallery.features, gallery.index)]);
      let hits = 0;
      const probes = 500;
      for (let q = 0; q < probes; q++) {
        const v = query.features.data.subarray(q * DIM, (q + 1) * DIM);
        const [approx, exact] = [await index.search(v, { top: 10 }), await index.search(v, { top: 10, exact: true })];
        const want = new Set(exact.map((m) => m.path));
        hits += approx.filter((m) => want.has(m.path)).length;
      }
      const reference = evaluateFeatures(query, gallery);
      const started = performance.now();
      const viaIndex = await evaluateIndex(index, query, { depth: 100 });
      return {
        galleryRows: 15_913, queries: 3_368, recallAt10: hits / (probes * 10), recallProbes: probes,
        mapExact: reference.mAP, mapIndex: viaIndex.mAP, mapDifference: Math.abs(reference.mAP - viaIndex.mAP), evalSeconds: (performance.now() - started) / 1000,
        insertRowsPerSecond: load.added / load.insertSeconds, hnswBuildSeconds: load.annSeconds,
      };
    } finally {
      await db.close();
    }
  });
}

async function scale(): Promise<Record<string, number>> {
  const rng = new Rng(2);
  const centres = centresOf(rng, 5000, DIM);
  const gallery = synthetic(rng, ROWS, 5000, centres, DIM, 'g');
  return withDb(async (dir) => {
    const db = await openDatabase(path.join(dir, 'scale.db'), { create: true });
    try {
      const index = await GalleryIndex.create(db, { dim: DIM, metric: 'cosine', model: null });
      const load = await loadIntoIndex(index, [featureSource('gallery', gallery.features, gallery.index)]);
      const times = async (filter: (q: number) => object): Promise<number[]> => {
        const out: number[] = [];
        for (let q = 0; q < 300; q++) {
          const v = gallery.features.data.subarray(q * 97 * DIM, (q * 97 + 1) * DIM);
          const t = performance.now();
          const matches = await index.search(v, { top: 10, ...filter(q) });
          out.push(performance.now() - t);
          if (matches.length !== 10) throw new Error(`query ${q}: ${matches.length} matches`);
        }
        return out.slice(20).sort((a, b) => a - b); // the first ones warm the cache
      };
      const filtered = await times((q) => ({ cameras: [1 + (q % 6)] }));
      const excluding = await times((q) => ({ excludeCamera: 1 + (q % 6) }));
      const plain = await times(() => ({}));
      return {
        rows: ROWS, dim: DIM, insertRowsPerSecond: load.added / load.insertSeconds, insertSeconds: load.insertSeconds, hnswBuildSeconds: load.annSeconds,
        cameraFilterP50Ms: percentile(filtered, 50), cameraFilterP99Ms: percentile(filtered, 99),
        excludeCameraP50Ms: percentile(excluding, 50), excludeCameraP99Ms: percentile(excluding, 99),
        noFilterP50Ms: percentile(plain, 50), noFilterP99Ms: percentile(plain, 99),
      };
    } finally {
      await db.close();
    }
  });
}

async function serve(): Promise<Record<string, number | string>> {
  await selectBackend();
  return withDb(async (dir) => {
    const model = await buildModel(MODEL_PRESETS.reid, new Rng(3));
    await saveCheckpoint(path.join(dir, 'ck'), { model, normalization: 'imagenet', epoch: 1 });
    disposeModel(model);
    const { checkpoint, model: loaded } = await loadCheckpoint(path.join(dir, 'ck'));
    const dim = loaded.spec.embeddingDim;
    disposeModel(loaded);
    const rng = new Rng(4);
    const gallery = synthetic(rng, 20_000, 1000, centresOf(rng, 1000, dim), dim, 'g');
    const db = await openDatabase(path.join(dir, 'serve.db'), { create: true });
    try {
      await loadIntoIndex(await GalleryIndex.create(db, { dim, metric: 'cosine', model: weightsFingerprint(checkpoint) }), [featureSource('gallery', gallery.features, gallery.index)]);
    } finally {
      await db.close();
    }
    const token = 'bench-token-0123456789abcdef';
    await writeFile(path.join(dir, 'token'), token);
    const child = spawn(process.execPath, [MAIN, 'serve', '--db', path.join(dir, 'serve.db'), '--checkpoint', path.join(dir, 'ck'), '--port', '0', '--token-file', path.join(dir, 'token'), '--rate-limit', '1000000']);
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      let stdout = '';
      child.stdout.on('data', (d: Buffer) => {
        stdout += d.toString();
        const m = /listening on (http:\/\/[^ \n]+)/.exec(stdout);
        if (m) resolve(m[1]!);
      });
      child.on('close', () => reject(new Error(`pul serve exited: ${stderr}`)));
    });
    const images = await Promise.all(Array.from({ length: 16 }, (_, i) => sharp({ create: { width: 64, height: 128, channels: 3, background: { r: 16 * i, g: 255 - 16 * i, b: 90 } } }).jpeg().toBuffer()));
    const post = async (i: number): Promise<number> => {
      const t = performance.now();
      const res = await fetch(`${url}/search?top=10&exclude_camera=${1 + (i % 6)}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'image/jpeg' }, body: images[i % images.length]! });
      const body = (await res.json()) as { matches?: unknown[] };
      if (res.status !== 200 || body.matches?.length !== 10) throw new Error(`status ${res.status}: ${JSON.stringify(body)}`);
      return performance.now() - t;
    };
    try {
      for (let i = 0; i < 20; i++) await post(i); // warm-up
      const latencies: number[] = [];
      const end = performance.now() + SECONDS * 1000;
      const started = performance.now();
      await Promise.all(Array.from({ length: CLIENTS }, async (_, c) => {
        for (let i = c; performance.now() < end; i += CLIENTS) latencies.push(await post(i));
      }));
      const seconds = (performance.now() - started) / 1000;
      latencies.sort((a, b) => a - b);
      return { net: 'reid', galleryRows: 20_000, clients: CLIENTS, seconds, requests: latencies.length, queriesPerSecond: latencies.length / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
    } finally {
      const exited = new Promise((resolve) => child.on('close', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
}

async function main(): Promise<void> {
  const machine = { cores: os.cpus().length, loadAverage: os.loadavg().map((v) => Math.round(v * 100) / 100), node: process.version, date: new Date().toISOString() };
  const results: Record<string, Record<string, number | string>> = {};
  if (ONLY.has('recall')) results['recall'] = await recall();
  if (ONLY.has('scale')) results['scale'] = await scale();
  if (ONLY.has('serve')) results['serve'] = await serve();
  await mkdir(OUT, { recursive: true });
  await writeFile(path.join(OUT, 'index.json'), `${JSON.stringify({ machine, results }, null, 2)}\n`);
  const md = [`# bench:index (${machine.date}, ${machine.cores} cores, load average at start ${machine.loadAverage.join(' / ')})`, ''];
  for (const [name, r] of Object.entries(results)) {
    md.push(`## ${name}`, '', '```', table(['figure', 'value'], Object.entries(r).map(([k, v]) => [k, v])), '```', '');
  }
  await writeFile(path.join(OUT, 'index.md'), md.join('\n'));
  process.stdout.write(`${md.join('\n')}\n`);
}

await main();
