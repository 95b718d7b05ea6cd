import assert from 'node:assert/strict';

/**
 * Asserts two numeric arrays agree within atol + rtol·|expected| element-wise, and reports the first
 * index that does not (with both values), which is what one needs to debug a kernel.
 */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  { atol = 1e-5, rtol = 1e-5, label = 'values' }: { atol?: number; rtol?: number; label?: string } = {},
): void {
  assert.equal(actual.length, expected.length, `${label}: length ${actual.length} !== ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] as number;
    const e = expected[i] as number;
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${label}: index ${i}: got ${a}, expected ${e} (atol ${atol}, rtol ${rtol})`);
    }
  }
}

/** Largest |a − e| over the arrays divided by the largest |e| (the "relative to magnitude" error). */
export function relativeMaxError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < expected.length; i++) {
    maxDiff = Math.max(maxDiff, Math.abs((actual[i] as number) - (expected[i] as number)));
    maxRef = Math.max(maxRef, Math.abs(expected[i] as number));
  }
  return maxRef === 0 ? maxDiff : maxDiff / maxRef;
}
