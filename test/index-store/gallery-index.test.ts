import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite/vector';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';
import {
  CAMERA_INDEX_MIN_ROWS, GalleryIndex, Rng, evaluateFeatures, evaluateIndex, featureMatrix, featureSource, isPulError, loadIntoIndex, openDatabase, parseShard, shardSamples,
  type Database, type GalleryRow, type IndexRow, type Match, type Sample,
} from '../../src/index.js';
import { withTempDir } from '../helpers/temp-dir.js';

const DIM = 16;

/** `ids` identities × `per` images, each a noisy copy of its identity's centre; camera = image % cameras. */
function synthetic(seed: number, ids: number, per: number, cameras: number, prefix: string, dim = DIM): { rows: IndexRow[]; data: Float32Array } {
  const rng = new Rng(seed);
  const centres = Array.from({ length: ids }, () => Float32Array.from({ length: dim }, () => rng.next() * 2 - 1));
  const rows: IndexRow[] = [];
  const data = new Float32Array(ids * per * dim);
  for (let p = 0; p < ids; p++) {
    for (let k = 0; k < per; k++) {
      const r = rows.length;
      for (let d = 0; d < dim; d++) data[r * dim + d] = centres[p]![d]! + 0.6 * (rng.next() * 2 - 1);
      rows.push({ path: `${prefix}/${p}_${k}.jpg`, pid: p, camid: (p + k) % cameras });
    }
  }
  return { rows, data };
}

/** Exact cosine ranking in JS: the reference for the database's answers. */
function bruteForce(q: Float32Array, rows: readonly IndexRow[], data: Float32Array, keep: (r: IndexRow) => boolean, top: number, dim = DIM): string[] {
  const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  const qn = norm(q);
  return rows
    .map((r, i) => {
      const g = data.subarray(i * dim, (i + 1) * dim);
      let dot = 0;
      for (let d = 0; d < dim; d++) dot += q[d]! * g[d]!;
      return { path: r.path, keep: keep(r), distance: 1 - dot / (qn * norm(g)) };
    })
    .filter((r) => r.keep)
    .sort((a, b) => a.distance - b.distance)
    .slice(0, top)
    .map((r) => r.path);
}

let root = '';
let db: Database;
let index: GalleryIndex;
const gallery = synthetic(1, 100, 12, 6, 'g'); // 1 200 rows
// camera 99: exactly 10 rows among 1 210 (0.8 %): HNSW's first ef_search candidates hold almost none of them
const rare = synthetic(2, 1, 10, 1, 'rare');
rare.rows.forEach((r, i) => (rare.rows[i] = { ...r, camid: 99, time: 1000 + i }));

before(async () => {
  root = path.join((await import('node:os')).tmpdir(), `pul-index-${process.pid}`);
  await mkdir(root, { recursive: true });
  db = await openDatabase(path.join(root, 'gallery.db'), { create: true });
  index = await GalleryIndex.create(db, { dim: DIM, metric: 'cosine', model: null });
});

after(async () => {
  await db.close();
  const { rm } = await import('node:fs/promises');
  await rm(root, { recursive: true, force: true });
});

test('loading is resumable: a second load adds nothing, repeated paths count once, and the rows hold what was given', async () => {
  const source = featureSource('gallery', featureMatrix(gallery.rows.length, DIM, gallery.data), gallery.rows);
  const half = featureSource('half', featureMatrix(600, DIM, gallery.data.subarray(0, 600 * DIM)), gallery.rows.slice(0, 600));
  const first = await loadIntoIndex(index, [half], { batchSize: 250 });
  assert.deepEqual([first.added, first.skipped, first.total], [600, 0, 600]);
  const second = await loadIntoIndex(index, [source, half, featureSource('rare', featureMatrix(10, DIM, rare.data), rare.rows)], { batchSize: 300 });
  assert.deepEqual([second.added, second.skipped, second.total], [610, 1200, 1210]);
  assert.ok(await index.hasAnnIndex());
  assert.equal((await loadIntoIndex(index, [source])).added, 0);
  const [counts] = await db.query<{ n: number; distinct_paths: number }>('SELECT count(*)::float8 AS n, count(DISTINCT path)::float8 AS distinct_paths FROM pul_gallery');
  assert.deepEqual(counts, { n: 1210, distinct_paths: 1210 });
  const labels = await index.labels();
  assert.deepEqual(labels.paths.slice(0, 3), ['g/0_0.jpg', 'g/0_1.jpg', 'g/0_2.jpg']);
  assert.deepEqual([labels.pids[5], labels.cameras[5]], [0, 5]);
});

test('search: HNSW top-10 agrees with exact ranking, filters are SQL with parameters, a selective filter still gives 10 rows', async () => {
  const all = [...gallery.rows, ...rare.rows];
  const data = new Float32Array([...gallery.data, ...rare.data]);
  let hits = 0;
  for (let q = 0; q < 40; q++) {
    const query = gallery.data.subarray(q * 30 * DIM, (q * 30 + 1) * DIM);
    const got = (await index.search(query, { top: 10 })).map((m) => m.path);
    const want = bruteForce(query, all, data, () => true, 10);
    hits += got.filter((p) => want.includes(p)).length;
    assert.deepEqual((await index.search(query, { top: 10, exact: true })).map((m) => m.path), want);
  }
  assert.ok(hits / 400 >= 0.95, `HNSW recall@10 ${hits / 400}`);

  const query = gallery.data.subarray(0, DIM);
  const rareOnly = await index.search(query, { top: 10, cameras: [99] });
  assert.equal(rareOnly.length, 10);
  assert.deepEqual(rareOnly.map((m) => m.path), bruteForce(query, all, data, (r) => r.camid === 99, 10));
  const window = await index.search(query, { top: 10, timeFrom: 1002, timeTo: 1004 });
  assert.deepEqual(window.map((m) => m.time).sort(), [1002, 1003, 1004]);
  const notCam0 = await index.search(query, { top: 50, excludeCamera: 0 });
  assert.equal(notCam0.length, 50);
  assert.ok(notCam0.every((m) => m.camera !== 0));
  assert.deepEqual(notCam0.map((m) => m.path), bruteForce(query, all, data, (r) => r.camid !== 0, 50));
  for (let i = 1; i < notCam0.length; i++) assert.ok(notCam0[i]!.distance >= notCam0[i - 1]!.distance);
  const err = await index.search(Float32Array.of(1, 2), { top: 3 }).catch((e: unknown) => e);
  assert.ok(isPulError(err) && err.code === 'index.mismatch', String(err));
});

test('a hostile path is stored and returned as data, never run as SQL', async () => {
  const nasty = "x'); DROP TABLE pul_gallery; --\u0000".replace('\u0000', '');
  const row: GalleryRow = { path: nasty, pid: null, camera: 7, time: null };
  await index.insert([row], Float32Array.from({ length: DIM }, (_, d) => (d === 0 ? 1 : 0)));
  const [best] = await index.search(Float32Array.from({ length: DIM }, (_, d) => (d === 0 ? 1 : 0)), { top: 1, cameras: [7] });
  assert.equal(best?.path, nasty);
  assert.equal(await index.count(), 1211);
});

test('a camera with enough rows gets its own HNSW index: the camera filter searches it (plan), agrees with exact search, several cameras merge', () =>
  withTempDir(async (dir) => {
    // cameras 1 and 2 above CAMERA_INDEX_MIN_ROWS, camera 3 below it
    const dim = 256; // rows as wide as real embeddings', or the planner prefers scanning the table
    const big = synthetic(3, 300, 10, 2, 'big', dim); // 3 000 rows, cameras 0/1 → 1/2
    big.rows.forEach((r, i) => (big.rows[i] = { ...r, camid: r.camid + 1 }));
    const small = synthetic(4, 30, 10, 1, 'small', dim);
    small.rows.forEach((r, i) => (small.rows[i] = { ...r, camid: 3 }));
    const rows = [...big.rows, ...small.rows];
    const data = new Float32Array([...big.data, ...small.data]);
    assert.ok(CAMERA_INDEX_MIN_ROWS <= 1500 && CAMERA_INDEX_MIN_ROWS > 300);
    const cdb = await openDatabase(path.join(dir, 'cams.db'), { create: true });
    try {
      const ci = await GalleryIndex.create(cdb, { dim, metric: 'cosine', model: null });
      const report = await loadIntoIndex(ci, [featureSource('g', featureMatrix(rows.length, dim, data), rows)]);
      assert.ok(report.annSeconds > 0);
      const names = async (): Promise<string[]> => (await cdb.query<{ n: string }>("SELECT indexname AS n FROM pg_indexes WHERE indexname LIKE '%hnsw%' ORDER BY 1")).map((r) => r.n);
      assert.deepEqual(await names(), ['pul_gallery_embedding_hnsw', 'pul_gallery_hnsw_camera_1', 'pul_gallery_hnsw_camera_2']);
      const query = data.subarray(7 * dim, 8 * dim);
      assert.match((await ci.explain(query, { top: 10, cameras: [2] })).join('\n'), /Index Scan using pul_gallery_hnsw_camera_2 /);
      // the small camera is ranked exactly, not through the whole graph's filtered scan
      assert.doesNotMatch((await ci.explain(query, { top: 10, cameras: [3] })).join('\n'), /hnsw/);
      let hits = 0;
      for (let q = 0; q < 20; q++) {
        const v = data.subarray(q * 113 * dim, (q * 113 + 1) * dim);
        const camera = 1 + (q % 2);
        const got = await ci.search(v, { top: 10, cameras: [camera] });
        assert.ok(got.length === 10 && got.every((m) => m.camera === camera));
        const want = bruteForce(v, rows, data, (r) => r.camid === camera, 10, dim);
        hits += got.filter((m) => want.includes(m.path)).length;
      }
      assert.ok(hits / 200 >= 0.95, `recall@10 through a camera's index ${hits / 200}`);
      const both = await ci.search(query, { top: 15, cameras: [3, 2] });
      assert.deepEqual(both.map((m) => m.path), bruteForce(query, rows, data, (r) => r.camid === 2 || r.camid === 3, 15, dim));
      // a load bigger than the index drops every graph; the load rebuilds them all
      await ci.dropAnnIndex();
      assert.deepEqual(await names(), []);
      const again = await loadIntoIndex(ci, [featureSource('g', featureMatrix(rows.length, dim, data), rows)]);
      assert.equal(again.added, 0);
      assert.equal((await names()).length, 3);
      assert.equal((await loadIntoIndex(ci, [featureSource('g', featureMatrix(rows.length, dim, data), rows)])).annSeconds, 0);
    } finally {
      await cdb.close();
    }
  }));

test('the same index code over the PostgreSQL wire protocol (pg → pglite-socket), and the errors of a bad --db', async () => {
  const server = await PGlite.create({ extensions: { vector } });
  const socket = new PGLiteSocketServer({ db: server, port: 0, host: '127.0.0.1' });
  await socket.start();
  const port = Number(socket.getServerConn().split(':').pop());
  const remote = await openDatabase(`postgres://postgres:secret@127.0.0.1:${port}/postgres`);
  try {
    assert.equal(remote.kind, 'postgres');
    assert.doesNotMatch(remote.location, /secret/);
    const ri = await GalleryIndex.create(remote, { dim: DIM, metric: 'cosine', model: 'abc' });
    const rows = gallery.rows;
    const g = { features: featureMatrix(rows.length, DIM, gallery.data), index: rows };
    const report = await loadIntoIndex(ri, [featureSource('g', g.features, rows)], { batchSize: 500 });
    assert.deepEqual([report.added, report.total], [1200, 1200]);
    assert.equal((await loadIntoIndex(ri, [featureSource('g', g.features, rows)])).added, 0);
    const first = gallery.data.subarray(0, DIM);
    const got: Match[] = await ri.search(first, { top: 10, excludeCamera: 1 });
    assert.deepEqual(got.map((m) => m.path), bruteForce(first, rows, gallery.data, (r) => r.camid !== 1, 10));
    assert.ok(got.every((m) => typeof m.distance === 'number' && m.camera !== 1));
    // pul eval --db: exact retrieval gives evaluateFeatures' figures, HNSW at depth 100 is within 0.01 mAP
    const query = synthetic(1, 100, 14, 6, 'q'); // the gallery's centres, new noise for images 12 and 13
    const q = { features: featureMatrix(200, DIM, query.data.filter((_, i) => Math.floor(i / DIM) % 14 >= 12)), index: query.rows.filter((_, i) => i % 14 >= 12) };
    const reference = evaluateFeatures(q, g);
    const exact = await evaluateIndex(ri, q, { exact: true, depth: 1200 });
    assert.ok(Math.abs(exact.mAP - reference.mAP) < 1e-6, `${exact.mAP} vs ${reference.mAP}`);
    assert.deepEqual(exact.cmc.map((c) => c.toFixed(6)), reference.cmc.map((c) => c.toFixed(6)));
    const hnsw = await evaluateIndex(ri, q, { depth: 100 });
    assert.ok(Math.abs(hnsw.mAP - reference.mAP) < 0.01, `${hnsw.mAP} vs ${reference.mAP}`);
    assert.ok(reference.mAP > 0.3 && reference.mAP < 0.99, `a test that can fail: mAP ${reference.mAP}`);
    // the index remembers its model: embeddings of another one are refused
    const reopened = await GalleryIndex.open(remote);
    assert.throws(() => reopened.checkCompatible(DIM, 'another'), /another model/);
  } finally {
    await remote.close();
    await socket.stop();
    await server.close();
  }
  const refused = await openDatabase(`postgres://u:p@127.0.0.1:${port}/x`).catch((e: unknown) => e);
  assert.ok(isPulError(refused) && refused.code === 'index.unreachable' && refused.exitCode === 4, String(refused));
  await withTempDir(async (dir) => {
    await writeFile(path.join(dir, 'notes.txt'), 'mine');
    const notOurs = await openDatabase(dir, { create: true }).catch((e: unknown) => e);
    assert.ok(isPulError(notOurs) && notOurs.code === 'index.notIndex', String(notOurs));
    const missing = await openDatabase(path.join(dir, 'nope')).catch((e: unknown) => e);
    assert.ok(isPulError(missing) && /pul index --db/.test(missing.message), String(missing));
  });
});

test('--shard i/n: disjoint blocks of the path-sorted list that cover it, whatever the input order', () => {
  const samples: Sample[] = Array.from({ length: 11 }, (_, i) => ({ path: `p${String((i * 7) % 11).padStart(2, '0')}`, pid: i, camid: 1, split: 'gallery' }));
  const shards = [1, 2, 3].map((i) => shardSamples(samples, parseShard(`${i}/3`)).map((s) => s.path));
  assert.deepEqual(shards.map((s) => s.length), [3, 4, 4]);
  assert.deepEqual(shards.flat(), [...samples.map((s) => s.path)].sort());
  assert.deepEqual(shardSamples([...samples].reverse(), { index: 2, count: 3 }).map((s) => s.path), shards[1]);
  assert.throws(() => parseShard('0/3'), /1 ≤ i ≤ n/);
  assert.throws(() => parseShard('4/3'), /1 ≤ i ≤ n/);
});
