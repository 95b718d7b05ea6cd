import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { featureMatrix, isPulError, Rng } from '../../src/index.js';
import { exactNeighbours } from '../../src/mining/exact-neighbours.js';
import { mineTriplets } from '../../src/mining/mine-triplets.js';

describe('smart-mining triplet choice', () => {
  // Points on a line with their classes:
  //   x:     0  1  2  4  5  9  10  20  21  30
  //   class: A  B  A  A  B  B  C   C   A   D   (D is a lone sample)
  const xs = [0, 1, 2, 4, 5, 9, 10, 20, 21, 30];
  const labels = Int32Array.from([0, 1, 0, 0, 1, 1, 2, 2, 0, 3]);
  const m = featureMatrix(xs.length, 1, Float32Array.from(xs));

  it('takes the nearest positive and the nearest negative beyond it, as computed by hand', () => {
    const table = mineTriplets(m, labels, exactNeighbours(m, 9), 0.5, new Rng(1));
    // anchor x=0 (A): neighbours 1(B,1) 2(A,2) 4(A,4) 5(B,5) …: positive x=2, negative beyond 2 → x=5 (B), not x=1 (closer than the positive)
    assert.equal(table.positive[0], 2);
    assert.equal(table.negative[0], 4);
    // anchor x=4 (A): neighbours 5(B,1) 2(A,2) 1(B,3) 0(A,4): positive x=2 at 2, negative beyond → x=1 (B) at 3
    assert.equal(table.positive[3], 2);
    assert.equal(table.negative[3], 1);
    // anchor x=10 (C): neighbours 9(B,1) 5(B,5) 4(A,6) … 20(C,10): positive x=20 at 10, negative beyond 10 → x=21 (A) at 11
    assert.equal(table.positive[6], 7);
    assert.equal(table.negative[6], 8);
    // anchor x=21 (A): 20(C,1) 30(D,9, lone) 10(C,11) 9(B,12) 5(B,16) 4(A,17): positive x=4 at 17, negative beyond 17 → x=2? no, A; x=1 (B) at 20
    assert.equal(table.positive[8], 3);
    assert.equal(table.negative[8], 1);
    // the lone sample of class D is neither an anchor nor anyone's negative
    assert.equal(table.positive[9], -1);
    assert.deepEqual(Array.from(table.anchors), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
    assert.ok(!Array.from(table.negative).includes(9));
    assert.equal(table.stats.randomPositives, 0);
    assert.equal(table.stats.randomNegatives, 0);
    // every anchor by hand (ties in distance: lower index first):
    //   a  x   pos(x, d)   neg(x, d)   gap d(a,n) − d(a,p)
    //   0  0   2 (2)       5 (5)       3
    //   1  1   5 (4)       10 (9)      5     (x=9 is B; x=0, x=2 at 1 are closer than the positive)
    //   2  2   0 (2)       5 (3)       1     (x=0 and x=4 both at 2: index 0 first)
    //   3  4   2 (2)       1 (3)       1
    //   4  5   1 (4)       0 (5)       1     (x=1 and x=9 both at 4: index 1 first)
    //   5  9   5 (4)       4 (5)       1
    //   6  10  20 (10)     21 (11)     1     (x=0 at 10 too, but not farther than the positive)
    //   7  20  10 (10)     9 (11)      1     (x=30 at 10 is the lone D)
    //   8  21  4 (17)      1 (20)      3
    assert.deepEqual(Array.from(table.positive), [2, 4, 0, 2, 1, 4, 7, 6, 3, -1]);
    assert.deepEqual(Array.from(table.negative), [4, 6, 4, 1, 0, 3, 8, 5, 1, -1]);
    // active ⇔ d(a,p) − d(a,n) + margin > 0 ⇔ gap < margin: none at 0.5, the six gaps of 1 at 1.5
    assert.equal(table.stats.activeShare, 0);
    assert.equal(table.stats.meanPositiveDistance, (2 + 4 + 2 + 2 + 4 + 4 + 10 + 10 + 17) / 9);
    const wide = mineTriplets(m, labels, exactNeighbours(m, 9), 1.5, new Rng(1));
    assert.equal(wide.stats.activeShare, 6 / 9);
  });

  it('falls back to a seeded random positive / negative when the neighbourhood has none', () => {
    // k = 1: anchor x=10 (C) sees only x=9 (B): no positive there → random positive (x=20, its only one)
    const table = mineTriplets(m, labels, exactNeighbours(m, 1), 0.5, new Rng(1));
    assert.equal(table.positive[6], 7);
    assert.ok(table.stats.randomPositives > 0);
    assert.ok(table.stats.randomNegatives > 0);
    for (const a of table.anchors) {
      assert.equal(labels[table.positive[a]!], labels[a]);
      assert.notEqual(labels[table.negative[a]!], labels[a]);
      assert.notEqual(table.positive[a], a);
      assert.notEqual(table.negative[a], 9);
    }
    // same seed, same fallbacks
    assert.deepEqual(mineTriplets(m, labels, exactNeighbours(m, 1), 0.5, new Rng(1)).negative, table.negative);
  });

  it('needs two classes with two samples each', () => {
    const one = Int32Array.from([0, 0, 0, 1, 2, 3, 4, 5, 6, 7]);
    assert.throws(() => mineTriplets(m, one, exactNeighbours(m, 3), 0.3, new Rng(0)), (e: unknown) => isPulError(e) && e.code === 'selection.tooSmall' && /found 1/.test(e.message));
  });
});
