/**
 * npm run bench:index -- [--out DIR] [--only recall,scale,serve] [--gallery-rows 15913] [--query-rows 3368]
 *   [--rows 100000] [--serve-rows 20000] [--seconds 20] [--clients 8]
 *
 * The gallery index's goals, embedded PGlite in a temporary folder, on synthetic embeddings with a trained
 * model's neighbour structure (gallery-data.ts: identities on a manifold, camera shifts, tracklets of
 * near-duplicates; 6 cameras; exact mAP ≈ 0.64 on the Market-sized case):
 * - recall: HNSW recall@10 against exact search on the Market-sized gallery (15 913 × 256) without a
 *   filter, with one camera, excluding the query's camera; the Market-1501 mAP through the index
 *   (evaluateIndex, depth 100) against evaluateFeatures (3 368 queries);
 * - scale: insert rate (rows/s, binary COPY in 2 000-row transactions), HNSW build time (the whole graph
 *   and one per camera), top-10 latency (p50/p99) with a camera filter, excluding a camera and unfiltered,
 *   and the camera filter's recall@10, on `--rows` × 256 rows (default 100 000);
 * - serve: `pul serve` of a `reid`-net checkpoint as a child process on 127.0.0.1 over `--serve-rows`
 *   gallery rows, a bounded load test (`--clients` concurrent clients for `--seconds`, then it stops)
 *   posting 64×128 JPEGs with exclude_camera: queries/s, p50/p99.
 * Writes index.json and index.md to --out (default bench/results). Figures depend on the machine's load:
 * the report records the cores and the load average at the start and at the end.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import {
  GalleryIndex, MODEL_PRESETS, Rng, buildModel, disposeModel, evaluateFeatures, evaluateIndex, featureSource, loadIntoIndex, openDatabase, saveCheckpoint, selectBackend, silentProgress, weightsFingerprint, loadCheckpoint,
  type FeatureMatrix, type SearchFilter,
} from '../src/index.js';
import { ReidWorld } from './gallery-data.js';
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
const SERVE_ROWS = Number(arg('serve-rows', '20000'));
/** The recall case's sizes: Market-1501's test split by default (751 identities). */
const GALLERY_ROWS = Number(arg('gallery-rows', '15913'));
const QUERY_ROWS = Number(arg('query-rows', '3368'));
const DIM = 256;
const MAIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');

const percentile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function withDb<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'pul-bench-index-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Recall@10 of HNSW against exact search over `probes` queries, each with the filter `filter(q)` gives:
 * at the default ef_search, and at each of `efs` (how far from trivial the data make the search).
 */
async function recallAt10(index: GalleryIndex, query: FeatureMatrix, probes: number, filter: (q: number) => SearchFilter, efs: readonly number[] = []): Promise<number[]> {
  const hits = new Array<number>(1 + efs.length).fill(0);
  for (let q = 0; q < probes; q++) {
    const v = query.data.subarray(q * query.dim, (q + 1) * query.dim);
    const exact = await index.search(v, { top: 10, exact: true, ...filter(q) });
    const want = new Set(exact.map((m) => m.path));
    for (const [i, ef] of [undefined, ...efs].entries()) {
      const approx = await index.search(v, { top: 10, ...filter(q), ...(ef === undefined ? {} : { efSearch: ef }) });
      hits[i]! += approx.filter((m) => want.has(m.path)).length / Math.max(1, exact.length);
    }
  }
  return hits.map((h) => h / probes);
}

async function recall(): Promise<Record<string, number>> {
  const world = new ReidWorld(new Rng(1), { ids: Math.max(1, Math.round((751 * GALLERY_ROWS) / 15_913)), cameras: 6, dim: DIM });
  const gallery = world.sample(GALLERY_ROWS, 'g');
  const query = world.sample(QUERY_ROWS, 'q');
  return withDb(async (dir) => {
    const db = await openDatabase(path.join(dir, 'market.db'), { create: true });
    try {
      const index = await GalleryIndex.create(db, { dim: DIM, metric: 'cosine', model: null });
      const load = await loadIntoIndex(index, [featureSource('gallery', gallery.features, gallery.index)]);
      const probes = Math.min(500, QUERY_ROWS);
      const camera = (q: number): number => query.index[q]!.camid;
      const [plain, ef10, ef20, ef40] = await recallAt10(index, query.features, probes, () => ({}), [10, 20, 40]);
      const [oneCamera] = await recallAt10(index, query.features, probes, (q) => ({ cameras: [1 + (q % 6)] }));
      const [otherCameras] = await recallAt10(index, query.features, probes, (q) => ({ excludeCamera: camera(q) }));
      let started = performance.now();
      const reference = evaluateFeatures(query, gallery);
      const exactSeconds = (performance.now() - started) / 1000;
      started = performance.now();
      const viaIndex = await evaluateIndex(index, query, { depth: 100 });
      return {
        galleryRows: GALLERY_ROWS, queries: QUERY_ROWS, recallProbes: probes, recallAt10: plain!, recallAt10OneCamera: oneCamera!, recallAt10ExcludeCamera: otherCameras!,
        recallAt10Ef10: ef10!, recallAt10Ef20: ef20!, recallAt10Ef40: ef40!,
        mapExact: reference.mAP, mapIndex: viaIndex.mAP, mapDifference: Math.abs(reference.mAP - viaIndex.mAP), exactEvalSeconds: exactSeconds, indexEvalSeconds: (performance.now() - started) / 1000,
        insertRowsPerSecond: load.added / load.insertSeconds, hnswBuildSeconds: load.annSeconds,
      };
    } finally {
      await db.close();
    }
  });
}

async function scale(): Promise<Record<string, number>> {
  const world = new ReidWorld(new Rng(2), { ids: Math.round(ROWS / 20), cameras: 6, dim: DIM });
  const gallery = world.sample(ROWS, 'g');
  const probes = world.sample(300, 'q').features;
  return withDb(async (dir) => {
    const db = await openDatabase(path.join(dir, 'scale.db'), { create: true });
    try {
      const index = await GalleryIndex.create(db, { dim: DIM, metric: 'cosine', model: null });
      let builds = 0;
      const load = await loadIntoIndex(index, [featureSource('gallery', gallery.features, gallery.index)], { progress: { ...silentProgress, log: () => builds++ } });
      const times = async (filter: (q: number) => SearchFilter): Promise<number[]> => {
        const out: number[] = [];
        for (let q = 0; q < probes.rows; q++) {
          const v = probes.data.subarray(q * DIM, (q + 1) * DIM);
          const t = performance.now();
          const matches = await index.search(v, { top: 10, ...filter(q) });
          out.push(performance.now() - t);
          if (matches.length !== 10) throw new Error(`query ${q}: ${matches.length} matches`);
        }
        return out.slice(20).sort((a, b) => a - b); // the first ones warm the cache
      };
      const oneCamera = (q: number): SearchFilter => ({ cameras: [1 + (q % 6)] });
      const filtered = await times(oneCamera);
      const excluding = await times((q) => ({ excludeCamera: 1 + (q % 6) }));
      const plain = await times(() => ({}));
      return {
        rows: ROWS, dim: DIM, insertRowsPerSecond: load.added / load.insertSeconds, insertSeconds: load.insertSeconds, hnswIndexes: builds, hnswBuildSeconds: load.annSeconds,
        cameraFilterP50Ms: percentile(filtered, 50), cameraFilterP99Ms: percentile(filtered, 99),
        excludeCameraP50Ms: percentile(excluding, 50), excludeCameraP99Ms: percentile(excluding, 99),
        noFilterP50Ms: percentile(plain, 50), noFilterP99Ms: percentile(plain, 99),
        // exact search of a camera's ~1/6 of the rows costs ~100 ms a query: 60 probes
        cameraFilterRecallAt10: (await recallAt10(index, probes, 60, oneCamera))[0]!,
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
    const gallery = new ReidWorld(new Rng(4), { ids: Math.max(1, Math.round(SERVE_ROWS / 20)), cameras: 6, dim }).sample(SERVE_ROWS, 'g');
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
      return { net: 'reid', galleryRows: SERVE_ROWS, clients: CLIENTS, seconds, requests: latencies.length, queriesPerSecond: latencies.length / seconds, p50Ms: percentile(latencies, 50), p99Ms: percentile(latencies, 99) };
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
  // each part's 1-minute load average as it ends: latency figures mean little without it
  const sections = { recall, scale, serve };
  for (const [name, run] of Object.entries(sections)) {
    if (ONLY.has(name)) results[name] = { ...(await run()), loadAverage1m: Math.round(os.loadavg()[0]! * 100) / 100 };
  }
  const loadAtEnd = os.loadavg().map((v) => Math.round(v * 100) / 100);
  await mkdir(OUT, { recursive: true });
  await writeFile(path.join(OUT, 'index.json'), `${JSON.stringify({ machine: { ...machine, loadAverageAtEnd: loadAtEnd }, results }, null, 2)}\n`);
  const md = [`# bench:index (${machine.date}, ${machine.cores} cores, load average at start ${machine.loadAverage.join(' / ')}, at the end ${loadAtEnd.join(' / ')})`, ''];
  for (const [name, r] of Object.entries(results)) {
    md.push(`## ${name}`, '', '```', table(['figure', 'value'], Object.entries(r).map(([k, v]) => [k, v])), '```', '');
  }
  await writeFile(path.join(OUT, 'index.md'), md.join('\n'));
  process.stdout.write(`${md.join('\n')}\n`);
}

await main();
