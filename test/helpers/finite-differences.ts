import { tf } from '../../src/index.js';

/**
 * Central finite differences (f(x + h·e_i) − f(x − h·e_i)) / 2h of a scalar function of one N×D tensor,
 * element by element. In float32 the rounding error is about 1e-7·|f|/h and the truncation error
 * h²·|f'''|/6: h = 1e-2 balances them for the O(1) losses tested here (≈ 1e-5 each), so a tolerance of
 * atol 2e-3 + rtol 1e-2 leaves room without hiding a wrong gradient (those are off by O(1)).
 */
export function numericGrad(f: (x: tf.Tensor2D) => tf.Scalar, x: readonly (readonly number[])[], h = 1e-2): number[] {
  const flat = x.flat();
  const rows = x.length;
  const cols = x[0]!.length;
  const out: number[] = [];
  for (let i = 0; i < flat.length; i++) {
    const at = (d: number): number =>
      tf.tidy(() => {
        const v = flat.slice();
        v[i]! += d;
        return f(tf.tensor2d(v, [rows, cols])).dataSync()[0]!;
      });
    out.push((at(h) - at(-h)) / (2 * h));
  }
  return out;
}

/** The gradient tfjs computes for the same function at `x`, flattened row by row. */
export function analyticGrad(f: (x: tf.Tensor2D) => tf.Scalar, x: readonly (readonly number[])[]): number[] {
  return tf.tidy(() => Array.from(tf.grad((t: tf.Tensor) => f(t as tf.Tensor2D))(tf.tensor2d(x as number[][])).dataSync()));
}
