/**
 * Seeded pseudo-random numbers. Every random choice in pul goes through an Rng made from the run's
 * --seed, so that runs repeat exactly on the same backend. Never use Math.random.
 */

/** A small, fast, well-tested 32-bit generator (mulberry32); period 2^32 is plenty for shuffles. */
export class Rng {
  private state: number;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new RangeError(`seed must be a finite number, got ${seed}`);
    this.state = hashSeed(seed);
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** In-place Fisher–Yates shuffle; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i] as T;
      items[i] = items[j] as T;
      items[j] = tmp;
    }
    return items;
  }

  /** A new independent generator derived from this one (for a sub-stage that needs its own stream). */
  fork(): Rng {
    return new Rng(Math.floor(this.next() * 4294967296));
  }

  /** A 31-bit integer seed, e.g. for a tfjs initializer. */
  seed31(): number {
    return this.int(0x7fffffff);
  }
}

/**
 * Mixes a seed with further parts into a new unsigned 32-bit seed, so that each (seed, round, purpose)
 * or (seed, epoch, step) draws its own repeatable stream. FNV-1a with an xor-shift per part; a string
 * part mixes in char by char. The one seed hash of pul: stages derive their seeds here.
 * @example new Rng(deriveSeed(config.seed, round, 'kmeans'));
 */
export function deriveSeed(...parts: readonly (number | string)[]): number {
  let h = 0x811c9dc5;
  const step = (v: number): void => {
    h = Math.imul(h ^ (v | 0), 0x01000193);
    h ^= h >>> 13;
  };
  for (const p of parts) {
    if (typeof p === 'number') step(p);
    else for (let i = 0; i < p.length; i++) step(p.charCodeAt(i));
  }
  return h >>> 0;
}

function hashSeed(seed: number): number {
  // splitmix-style scramble so that nearby seeds give unrelated streams
  let h = (Math.floor(seed) ^ 0x9e3779b9) | 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}
