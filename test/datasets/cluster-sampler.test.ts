/**
 * Cluster-Contrast's batch order: P distinct clusters × K images per batch for the steps asked, clusters
 * drawn uniformly whatever their size, members of a cluster in turn, repeatable from the epoch's Rng —
 * and the epoch size of the train stage, against the P×K sampler's on one giant cluster (what
 * fmnist-disjoint's DBSCAN gave: 74 batches for 22 680 clustered images).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPulError, Rng } from '../../src/index.js';
import { clusterCycleSampler } from '../../src/datasets/cluster-sampler.js';
import { pkEpochBatches } from '../../src/datasets/samplers.js';
import { contrastSteps } from '../../src/pipeline/contrast-stages.js';

/** One cluster of 1 000 images, 40 of 6, cluster 41 of 2, and 7 noise rows (−1). */
function skewed(): Int32Array {
  const labels: number[] = [...new Array<number>(1000).fill(0)];
  for (let c = 1; c <= 40; c++) labels.push(...new Array<number>(6).fill(c));
  labels.push(41, 41, ...new Array<number>(7).fill(-1));
  return Int32Array.from(labels);
}

describe('cluster-cycle sampler (Cluster-Contrast)', () => {
  it('P distinct clusters × K images per batch; clusters uniform, members in turn; noise never drawn; repeatable', () => {
    const labels = skewed();
    const s = clusterCycleSampler(labels, { p: 8, k: 4, steps: 42 });
    assert.equal(s.batchSize, 32);
    assert.equal(s.stepsPerEpoch, 42);
    const order = s.order(0, new Rng(3));
    assert.equal(order.length, 42 * 32);
    const visits = new Array<number>(42).fill(0);
    for (let b = 0; b < 42; b++) {
      const batch = order.slice(b * 32, b * 32 + 32).map((i) => labels[i]!);
      const clusters = [...new Set(batch)];
      assert.equal(clusters.length, 8, `batch ${b}: ${clusters.length} clusters`);
      for (const c of clusters) {
        assert.equal(batch.filter((y) => y === c).length, 4);
        visits[c]!++;
      }
    }
    assert.ok(order.every((i) => labels[i]! >= 0), 'a noise row was drawn');
    // 42 steps × 8 = 336 visits of 42 clusters: 8 each, the giant cluster no more than a small one
    assert.ok(Math.min(...visits) >= 7 && Math.max(...visits) <= 9, `visits ${visits.join(',')}`);
    // a cluster of 6 drawn 8 × 4 = 32 times: each member 5 or 6 times (in turn, not at random)
    const draws = new Map<number, number>();
    for (const i of order) if (labels[i] === 1) draws.set(i, (draws.get(i) ?? 0) + 1);
    assert.equal(draws.size, 6);
    const perMember = [...draws.values()];
    assert.ok(Math.max(...perMember) - Math.min(...perMember) <= 2, `draws per member ${perMember.join(',')}`);
    // a cluster of 2 fills its K = 4 with repeats
    const pair = order.filter((i) => labels[i] === 41);
    assert.deepEqual([...new Set(pair)].sort((a, b) => a - b), [1240, 1241]);
    assert.deepEqual(s.order(0, new Rng(3)), order);
    assert.notDeepEqual(s.order(0, new Rng(4)), order);
  });

  it('the train stage sizes an epoch to hold its clustered images once (or itersPerEpoch); the P×K sampler stops short on a giant cluster', () => {
    const labels = skewed();
    const sizes = [1000, ...new Array<number>(40).fill(6), 2];
    const clustered = 1242;
    // P×K (identity sampler): it ends when no 16 distinct identities have images left — 2 batches of 64 for 1 242 images
    assert.equal(pkEpochBatches(sizes, { p: 16, k: 4 }), 2);
    assert.equal(contrastSteps(clustered, 64, undefined), 20);
    assert.equal(contrastSteps(clustered, 64, 400), 400);
    assert.equal(clusterCycleSampler(labels, { p: 16, k: 4, steps: contrastSteps(clustered, 64, undefined) }).order(0, new Rng(1)).length, 20 * 64);
    // the fmnist-disjoint epoch that showed it (round 4 of an 8-epoch run: 520 clusters, one of 16 679 images)
    const fmnist = [16679, 1324, 137, 98, 88, 79, 70, 70, 59, 52, ...new Array<number>(510).fill(8)];
    assert.ok(pkEpochBatches(fmnist, { p: 16, k: 4 }) < 100);
    assert.equal(contrastSteps(fmnist.reduce((a, b) => a + b, 0), 64, undefined), Math.ceil((18656 + 4080) / 64));
  });

  it('bad input: named errors', () => {
    const labels = Int32Array.from([0, 0, 1, 1, -1]);
    for (const [opts, message] of [
      [{ p: 3, k: 2, steps: 1 }, /P=3 clusters per batch but only 2 clusters/],
      [{ p: 2, k: 0, steps: 1 }, /K=0 must be a positive integer/],
      [{ p: 2, k: 2, steps: 0 }, /steps per epoch=0 must be a positive integer/],
    ] as const) {
      assert.throws(() => clusterCycleSampler(labels, opts), (err: unknown) => isPulError(err) && message.test(err.message));
    }
  });
});
