import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { featureMatrix, isPulError, Rng } from '../../src/index.js';
import { exactNeighbours } from '../../src/mining/exact-neighbours.js';
import { hnswNeighbours, hnswUnavailable } from '../../src/mining/hnsw-neighbours.js';
import { findNeighbours } from '../../src/mining/find-neighbours.js';

/** n × d Gaussian points in `clusters` seeded blobs (clustered, like embeddings of a few classes). */
function blobs(n: number, d: number, clusters: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const centres = Array.from({ length: clusters * d }, () => 3 * rng.normal());
  const out = new Float32Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) out[i * d + j] = centres[(i % clusters) * d + j]! + rng.normal();
  return out;
}

describe('neighbour search', () => {
  it('exact search gives the hand-computed neighbours of points on a line, nearest first, self excluded', () => {
    // x = 0, 1, 3, 7, 15: row 2 (x=3) is 2 from x=1, 3 from x=0, 4 from x=7
    const m = featureMatrix(5, 1, Float32Array.from([0, 1, 3, 7, 15]));
    const nb = exactNeighbours(m, 3);
    assert.deepEqual(Array.from(nb.indices.subarray(6, 9)), [1, 0, 3]);
    assert.deepEqual(Array.from(nb.distances.subarray(6, 9)), [4, 9, 16]);
    assert.deepEqual(Array.from(nb.indices.subarray(12, 15)), [3, 2, 1]); // x=15: 8, 12, 14 away
    // fewer other rows than k: the rest is −1 / Infinity
    const small = exactNeighbours(featureMatrix(2, 1, Float32Array.from([0, 2])), 3);
    assert.deepEqual(Array.from(small.indices), [1, -1, -1, 0, -1, -1]);
    assert.equal(small.distances[1], Infinity);
  });

  it('exact blocked search agrees with a brute-force double loop on a random set', () => {
    const n = 300;
    const d = 7;
    const data = blobs(n, d, 5, 3);
    const nb = exactNeighbours(featureMatrix(n, d, data), 5);
    for (const i of [0, 17, 299]) {
      const all = Array.from({ length: n }, (_, j) => j).filter((j) => j !== i).map((j) => {
        let s = 0;
        for (let c = 0; c < d; c++) s += (data[i * d + c]! - data[j * d + c]!) ** 2;
        return { j, s };
      }).sort((a, b) => a.s - b.s);
      assert.deepEqual(Array.from(nb.indices.subarray(i * 5, i * 5 + 5)), all.slice(0, 5).map((x) => x.j));
      for (let r = 0; r < 5; r++) assert.ok(Math.abs(nb.distances[i * 5 + r]! - all[r]!.s) < 1e-3 * (1 + all[r]!.s));
    }
  });

  it('HNSW (usearch) finds ≥ 95 % of the exact 10 nearest neighbours on 3 000 seeded clustered points, the same each build', () => {
    assert.equal(hnswUnavailable(), null, 'usearch is an optional dependency installed with the project');
    const n = 3000;
    const d = 32;
    const k = 10;
    const m = featureMatrix(n, d, blobs(n, d, 10, 7));
    const exact = exactNeighbours(m, k);
    const approx = hnswNeighbours(m, k);
    let hits = 0;
    for (let i = 0; i < n; i++) {
      const truth = new Set(exact.indices.subarray(i * k, (i + 1) * k));
      for (let r = 0; r < k; r++) if (truth.has(approx.indices[i * k + r]!)) hits++;
    }
    const recall = hits / (n * k);
    assert.ok(recall >= 0.95, `recall@10 ${recall}`);
    assert.ok(recall <= 1);
    // built on one thread: a second build gives the same neighbours
    assert.deepEqual(hnswNeighbours(m, k).indices, approx.indices);
    // never returns the row itself
    for (let i = 0; i < n; i++) assert.ok(!approx.indices.subarray(i * k, (i + 1) * k).includes(i));
  });

  it('auto: exact up to exactMaxRows, HNSW above; a bad k is a named error', () => {
    const m = featureMatrix(50, 4, blobs(50, 4, 2, 1));
    assert.equal(findNeighbours(m, 4).method, 'exact');
    assert.equal(findNeighbours(m, 4, { exactMaxRows: 10 }).method, 'hnsw');
    assert.equal(findNeighbours(m, 4, { method: 'hnsw' }).method, 'hnsw');
    assert.throws(() => findNeighbours(m, 0), (e: unknown) => isPulError(e) && e.code === 'option.outOfRange' && /k=0/.test(e.message));
  });
});
