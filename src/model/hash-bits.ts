/** The length B of binary hash codes (the hash head's units, codes.bin's bits): a multiple of 8 (whole bytes) in [8, 1024]. */

export const MIN_HASH_BITS = 8;
export const MAX_HASH_BITS = 1024;

/** Why `bits` is not a valid code length, or null when it is. */
export function hashBitsProblem(bits: number): string | null {
  if (!Number.isInteger(bits) || bits < MIN_HASH_BITS || bits > MAX_HASH_BITS) return `${bits} bits is outside ${MIN_HASH_BITS}–${MAX_HASH_BITS}`;
  if (bits % 8 !== 0) return `${bits} bits is not a multiple of 8 (codes are stored in whole bytes)`;
  return null;
}
