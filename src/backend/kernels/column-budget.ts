/**
 * How many floats a kernel's im2col buffer may hold at once (default 32 Mi = 128 MB); larger batches
 * are processed in chunks of images. Adjustable so that tests exercise the chunked path.
 */
let budget = 1 << 25;

export function columnBudget(): number {
  return budget;
}

export function setColumnBudget(floats: number): void {
  if (!(floats >= 1)) throw new RangeError(`column budget must be ≥ 1 float, got ${floats}`);
  budget = Math.floor(floats);
}
