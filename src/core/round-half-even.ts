/**
 * numpy's np.around / np.round: to the nearest integer, halves to the even one (2.5 → 2, 3.5 → 4), the
 * rounding the reference Python code applies (SpCL's round(k1 / 2) and round(n·α)).
 * @example roundHalfEven(12.5) // 12
 */
export function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  if (x - f !== 0.5) return Math.round(x);
  return f % 2 === 0 ? f : f + 1;
}
