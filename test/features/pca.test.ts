import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PulError, Rng, featureMatrix, fitPca, projectPca } from '../../src/index.js';

const close = (a: number, b: number, what: string, tol = 1e-6) => assert.ok(Math.abs(a - b) < tol, `${what}: ${a} vs ${b}`);

test('PCA of four points on two diagonals, by hand', () => {
  // (3,3), (−3,−3), (1,−1), (−1,1): mean 0, covariance (1/3)·[[20,16],[16,20]] → eigenvalues 12 along
  // (1,1)/√2 and 4/3 along (1,−1)/√2 (sign: largest entry positive, a tie keeps the first)
  const x = featureMatrix(4, 2, Float32Array.of(3, 3, -3, -3, 1, -1, -1, 1));
  const pca = fitPca(x, 2);
  close(pca.variances[0]!, 12, 'first variance');
  close(pca.variances[1]!, 4 / 3, 'second variance');
  close(pca.explained[0]!, 0.9, 'explained share');
  const s = Math.SQRT1_2;
  assert.deepEqual(Array.from(pca.components, (v) => Math.round(v * 1e9) / 1e9), [s, s, s, -s].map((v) => Math.round(v * 1e9) / 1e9));
  const y = projectPca(pca, x);
  const want = [3 * Math.SQRT2, 0, -3 * Math.SQRT2, 0, 0, Math.SQRT2, 0, -Math.SQRT2];
  want.forEach((v, i) => close(y.data[i]!, v, `projection ${i}`, 1e-5));
  const white = projectPca(fitPca(x, 1, { whiten: true }), x);
  assert.equal(white.dim, 1);
  [3 * Math.SQRT2, -3 * Math.SQRT2, 0, 0].forEach((v, i) => close(white.data[i]!, v / Math.sqrt(12), `whitened ${i}`, 1e-5));
});

test('whitened projections of correlated data are uncorrelated with unit variance', () => {
  const rng = new Rng(3);
  const n = 500;
  const data = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const [a, b] = [rng.normal(), rng.normal()];
    data.set([5 + 2 * a, 2 * a + 0.5 * b, -a + b, 0.1 * rng.normal()], i * 4);
  }
  const y = projectPca(fitPca(featureMatrix(n, 4, data), 3, { whiten: true }), featureMatrix(n, 4, data));
  for (let p = 0; p < 3; p++) {
    for (let q = 0; q < 3; q++) {
      let s = 0;
      for (let i = 0; i < n; i++) s += y.data[i * 3 + p]! * y.data[i * 3 + q]!;
      close(s / (n - 1), p === q ? 1 : 0, `covariance (${p}, ${q})`, 1e-4);
    }
  }
});

test('a bad target dimension or mismatched features is an error naming them', () => {
  const x = featureMatrix(3, 2, Float32Array.of(1, 2, 3, 4, 5, 7));
  assert.throws(() => fitPca(x, 3), (e: unknown) => e instanceof PulError && e.code === 'option.outOfRange' && /\[1, 2\]/.test(e.message));
  assert.throws(() => projectPca(fitPca(x, 1), featureMatrix(1, 3)), (e: unknown) => e instanceof PulError && e.code === 'features.mismatch');
});
