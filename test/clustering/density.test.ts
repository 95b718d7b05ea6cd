/**
 * Density clustering against scikit-learn and a dense numpy port of SpCL's compute_jaccard_distance:
 * test/fixtures/dbscan-sklearn.json, written by scripts/dbscan-fixtures.py (the tests never run Python).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PulError, featureMatrix, type FeatureMatrix } from '../../src/index.js';
import { dbscan } from '../../src/clustering/dbscan.js';
import { clusterByDensity } from '../../src/clustering/density-clustering.js';
import { jaccardDistances } from '../../src/clustering/k-reciprocal-jaccard.js';
import type { SparseDistances } from '../../src/clustering/sparse-distances.js';

interface Run { readonly eps: number; readonly minPts: number; readonly labels: number[] }
interface JaccardCase { rows: number; dim: number; k1: number; k2: number; features: number[]; pairs: [number, number, number][]; runs: Run[] }
interface SparseCase { rows: number; offsets: number[]; index: number[]; distance: number[]; runs: Run[] }
const FIXTURE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/dbscan-sklearn.json');
const fixture = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { jaccard: JaccardCase[]; sparse: SparseCase[] };

function featuresOf(c: JaccardCase): FeatureMatrix {
  return featureMatrix(c.rows, c.dim, Float32Array.from(c.features));
}

/** The fixture's (i, j, d) pairs (row-major) as CSR. */
function sparseOf(rows: number, pairs: readonly (readonly [number, number, number])[]): SparseDistances {
  const offsets = new Int32Array(rows + 1);
  for (const [i] of pairs) offsets[i + 1]!++;
  for (let i = 0; i < rows; i++) offsets[i + 1]! += offsets[i]!;
  return { rows, offsets, index: Int32Array.from(pairs, (p) => p[1]), distance: Float32Array.from(pairs, (p) => p[2]) };
}

function throwsPul(fn: () => unknown, code: string, pattern: RegExp, option?: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof PulError, `expected a PulError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    if (option !== undefined) assert.equal(err.where?.option, option);
    return true;
  });
}

test('jaccardDistances equals the dense numpy port of SpCL compute_jaccard_distance', () => {
  for (const c of fixture.jaccard) {
    const got = jaccardDistances(featuresOf(c), { k1: c.k1, k2: c.k2 });
    assert.equal(got.rows, c.rows);
    assert.equal(got.index.length, c.pairs.length, `rows ${c.rows}, k1 ${c.k1}: ${got.index.length} pairs below 1, numpy ${c.pairs.length}`);
    let worst = 0;
    c.pairs.forEach(([i, j, d], t) => {
      assert.ok(t >= got.offsets[i]! && t < got.offsets[i + 1]!, `pair ${t} (${i}, ${j}) is not in row ${i}`);
      assert.equal(got.index[t], j);
      worst = Math.max(worst, Math.abs(got.distance[t]! - d));
    });
    assert.ok(worst < 2e-5, `largest difference from numpy ${worst}`);
    // memory bound: far fewer pairs than rows², every row holds itself at ≈ 0
    assert.ok(got.index.length < c.rows * c.rows);
    for (let i = 0; i < c.rows; i++) {
      const t = got.index.subarray(got.offsets[i], got.offsets[i + 1]).indexOf(i);
      assert.ok(t >= 0 && got.distance[got.offsets[i]! + t]! < 1e-6, `row ${i} lacks itself`);
    }
  }
});

test('maxDistance keeps only the pairs a radius needs', () => {
  const c = fixture.jaccard[0]!;
  const all = jaccardDistances(featuresOf(c), { k1: c.k1, k2: c.k2 });
  const near = jaccardDistances(featuresOf(c), { k1: c.k1, k2: c.k2, maxDistance: 0.6 });
  const want = Array.from(all.distance).filter((d) => d <= 0.6).length;
  assert.equal(near.index.length, want);
  assert.ok(want < all.index.length, 'the cut removes pairs');
  assert.ok(near.distance.every((d) => d <= 0.6));
});

test('dbscan labels equal scikit-learn DBSCAN(metric=precomputed) on the same distances', () => {
  let runs = 0;
  for (const c of fixture.jaccard) {
    const fromNumpy = sparseOf(c.rows, c.pairs);
    const ours = jaccardDistances(featuresOf(c), { k1: c.k1, k2: c.k2 });
    for (const run of c.runs) {
      assert.deepEqual(Array.from(dbscan(fromNumpy, run)), run.labels, `numpy distances, eps ${run.eps}, minPts ${run.minPts}`);
      assert.deepEqual(Array.from(dbscan(ours, run)), run.labels, `pul's distances, eps ${run.eps}, minPts ${run.minPts}`);
      runs++;
    }
  }
  for (const c of fixture.sparse) {
    const distances = { rows: c.rows, offsets: Int32Array.from(c.offsets), index: Int32Array.from(c.index), distance: Float32Array.from(c.distance) };
    for (const run of c.runs) {
      assert.deepEqual(Array.from(dbscan(distances, run)), run.labels, `sparse ${c.rows} rows, eps ${run.eps}, minPts ${run.minPts}`);
      runs++;
    }
  }
  assert.ok(runs >= 8);
});

test('dbscan: a point counts itself, border points join the first cluster reaching them', () => {
  // a chain 0-1-2-3-4 at distance 0.125 and 5 alone; with minPts 3 the ends are border points
  const pairs: [number, number, number][] = [];
  for (let i = 0; i < 4; i++) pairs.push([i, i + 1, 0.125], [i + 1, i, 0.125]);
  pairs.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const chain = sparseOf(6, pairs);
  assert.deepEqual(Array.from(dbscan(chain, { eps: 0.125, minPts: 3 })), [0, 0, 0, 0, 0, -1]);
  assert.deepEqual(Array.from(dbscan(chain, { eps: 0.125, minPts: 2 })), [0, 0, 0, 0, 0, -1]);
  assert.deepEqual(Array.from(dbscan(chain, { eps: 0.12, minPts: 2 })), [-1, -1, -1, -1, -1, -1]);
  // 4 is a border point of two 4-cliques (0–3, 5–8) touching 3 and 5: it joins the first cluster
  const edges: [number, number, number][] = [[3, 4, 0.25], [4, 5, 0.25]];
  for (const base of [0, 5]) for (let a = 0; a < 4; a++) for (let b = a + 1; b < 4; b++) edges.push([base + a, base + b, 0.125]);
  const both = [...edges, ...edges.map(([i, j, d]) => [j, i, d] as [number, number, number])].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  assert.deepEqual(Array.from(dbscan(sparseOf(9, both), { eps: 0.25, minPts: 4 })), [0, 0, 0, 0, 0, 1, 1, 1, 1]);
  // a stored diagonal beyond eps does not count (sklearn keeps a stored diagonal's value)
  const far = sparseOf(2, [[0, 0, 0.5], [0, 1, 0.125], [1, 0, 0.125]]);
  assert.deepEqual(Array.from(dbscan(far, { eps: 0.25, minPts: 2 })), [0, 0]);
  assert.deepEqual(Array.from(dbscan(sparseOf(2, [[0, 0, 0.5], [1, 1, 0.5]]), { eps: 0.25, minPts: 2 })), [-1, -1]);
});

test('bad input: eps ≤ 0, minPts < 2, k2 > k1, k1 ≥ rows, eps ≥ 1 are named errors', () => {
  const c = fixture.jaccard[1]!;
  const x = featuresOf(c);
  const d = sparseOf(c.rows, c.pairs);
  throwsPul(() => dbscan(d, { eps: 0, minPts: 4 }), 'option.outOfRange', /eps=0 must be a number above 0/, 'eps');
  throwsPul(() => dbscan(d, { eps: -0.5, minPts: 4 }), 'option.outOfRange', /eps=-0.5/, 'eps');
  throwsPul(() => dbscan(d, { eps: 0.5, minPts: 1 }), 'option.outOfRange', /minPts=1 must be a whole number ≥ 2/, 'minPts');
  throwsPul(() => clusterByDensity(x, { eps: 0.6, minPts: 0 }), 'option.outOfRange', /minPts=0/, 'minPts');
  throwsPul(() => clusterByDensity(x, { k1: 10, k2: 12 }), 'option.outOfRange', /k2=12 exceeds k1=10/, 'k2');
  throwsPul(() => jaccardDistances(x, { k1: 10, k2: 12 }), 'option.outOfRange', /k2=12 exceeds k1=10/, 'k2');
  throwsPul(() => clusterByDensity(x, { k1: c.rows, k2: 6 }), 'option.outOfRange', new RegExp(`k1=${c.rows} must be below the ${c.rows} rows`), 'k1');
  throwsPul(() => clusterByDensity(x, { eps: 1.2 }), 'option.outOfRange', /eps=1.2 must be below 1/, 'eps');
  throwsPul(() => clusterByDensity(x, { eps: 0.6, reliabilityDelta: 0.6 }), 'option.outOfRange', /eps − reliabilityDelta=0/, 'reliabilityDelta');
});

test('fewer than 2 clusters is a named stop (exit 3) giving the counts and a hint on eps', () => {
  const c = fixture.jaccard[0]!;
  const x = featuresOf(c);
  throwsPul(() => clusterByDensity(x, { eps: 0.01, minPts: 4 }), 'clustering.tooFew', /DBSCAN found 0 clusters and 160 noise points among 160 rows at eps=0.01, minPts=4.*raise eps/);
  throwsPul(() => clusterByDensity(x, { eps: 0.99, minPts: 2 }), 'clustering.tooFew', /DBSCAN found 1 cluster and 0 noise points.*lower eps below 0.99/);
  try {
    clusterByDensity(x, { eps: 0.01 });
  } catch (err) {
    assert.equal((err as PulError).exitCode, 3);
  }
});

test('clusterByDensity: sklearn labels, −1 noise, member-mean centroids, tighter / looser labels', () => {
  const c = fixture.jaccard[0]!;
  const run = c.runs.find((r) => r.eps === 0.6 && r.minPts === 4)!;
  const x = featuresOf(c);
  const got = clusterByDensity(x, { k1: c.k1, k2: c.k2, eps: 0.6, minPts: 4, reliabilityDelta: 0.08 });
  assert.deepEqual(Array.from(got.assignment), run.labels);
  assert.equal(got.method, 'dbscan');
  assert.equal(got.k, Math.max(...run.labels) + 1);
  assert.equal(got.noise, run.labels.filter((l) => l < 0).length);
  assert.ok(got.k >= 2 && got.noise > 0, `k ${got.k}, noise ${got.noise}: the case exercises noise`);
  assert.equal(got.centroids.rows, got.k);
  for (let k = 0; k < got.k; k++) {
    const members = run.labels.flatMap((l, i) => (l === k ? [i] : []));
    for (let t = 0; t < c.dim; t++) {
      const mean = members.reduce((s, i) => s + x.data[i * c.dim + t]!, 0) / members.length;
      assert.ok(Math.abs(got.centroids.data[k * c.dim + t]! - mean) < 1e-5);
    }
  }
  const full = jaccardDistances(x, { k1: c.k1, k2: c.k2 });
  assert.deepEqual(got.tighter, dbscan(full, { eps: 0.52, minPts: 4 }));
  assert.deepEqual(got.looser, dbscan(full, { eps: 0.68, minPts: 4 }));
  assert.deepEqual(Array.from(got.tighter), c.runs.find((r) => r.eps === 0.52 && r.minPts === 4)!.labels);
  assert.ok(got.seconds.total >= got.seconds.dbscan && got.seconds.neighbours >= 0);
});
