/**
 * Greedy k-means++ seeding exactly as scikit-learn's `_kmeans_plusplus`: the first centre uniformly, then
 * for each further centre 2 + ⌊ln K⌋ candidates drawn ∝ D² and the one minimising the potential kept.
 * The candidates' distances to all rows are one GEMM per centre ([L, D] × [D, N]), the part sklearn
 * spends most of its seeding time on.
 */
import type { Rng } from '../core/random.js';
import type { FeatureMatrix } from '../features/feature-matrix.js';
import { transposedPoints } from './squared-distances.js';

/** Row indices of the K initial centres. `norms`: float64 squared row norms of x. */
export function kmeansPlusPlus(x: FeatureMatrix, k: number, rng: Rng, norms: Float64Array): Int32Array {
  const n = x.rows;
  const d = x.dim;
  const trials = 2 + Math.floor(Math.log(k));
  const chosen = new Int32Array(k);
  const xt = transposedPoints(x.data, n, d, norms);
  try {
    const closest = new Float64Array(n);
    const first = rng.int(n);
    chosen[0] = first;
    const firstDots = xt.dot(x.data.subarray(first * d, (first + 1) * d), 1);
    let potential = 0;
    for (let i = 0; i < n; i++) {
      closest[i] = Math.max(0, norms[i]! + norms[first]! - 2 * firstDots[i]!);
      potential += closest[i]!;
    }
    const cumulative = new Float64Array(n);
    const candidates = new Int32Array(trials);
    const block = new Float32Array(trials * d);
    const candidateDist = new Float64Array(n);
    for (let c = 1; c < k; c++) {
      let run = 0;
      for (let i = 0; i < n; i++) cumulative[i] = run += closest[i]!;
      for (let t = 0; t < trials; t++) {
        const target = rng.next() * potential;
        candidates[t] = Math.min(n - 1, searchSorted(cumulative, target));
        block.set(x.data.subarray(candidates[t]! * d, (candidates[t]! + 1) * d), t * d);
      }
      const dots = xt.dot(block, trials);
      let bestPot = Infinity;
      let bestT = 0;
      for (let t = 0; t < trials; t++) {
        const ci = candidates[t]!;
        let pot = 0;
        const o = t * n;
        for (let i = 0; i < n; i++) {
          const dist = Math.max(0, norms[i]! + norms[ci]! - 2 * dots[o + i]!);
          pot += dist < closest[i]! ? dist : closest[i]!;
        }
        if (pot < bestPot) {
          bestPot = pot;
          bestT = t;
        }
      }
      const best = candidates[bestT]!;
      chosen[c] = best;
      const o = bestT * n;
      for (let i = 0; i < n; i++) {
        const dist = Math.max(0, norms[i]! + norms[best]! - 2 * dots[o + i]!);
        candidateDist[i] = dist < closest[i]! ? dist : closest[i]!;
      }
      closest.set(candidateDist);
      potential = bestPot;
    }
  } finally {
    xt.dispose();
  }
  return chosen;
}

/** First index whose cumulative value is ≥ target (numpy searchsorted, side 'left'). */
function searchSorted(cumulative: Float64Array, target: number): number {
  let lo = 0;
  let hi = cumulative.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cumulative[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
