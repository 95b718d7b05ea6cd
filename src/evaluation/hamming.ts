/**
 * Query × gallery Hamming distances between packed binary codes (src/features/binary-codes.ts), in
 * bounded blocks of query rows: XOR + popcount of 64-bit words, in native C when the addon is loaded
 * (AVX-512 VPOPCNTDQ where the CPU has it, else POPCNT, else a portable popcount; chosen at run time),
 * else in JS on 32-bit halves. Distances are whole numbers of bits, stored as float32 so that the
 * ranking shared with float features reads them (exact: B ≤ 1024).
 */
import { loadedNativeKernels } from '../backend/native.js';
import { PulError } from '../core/errors.js';
import type { PackedCodes } from '../features/binary-codes.js';
import type { DistanceBlock } from './distance.js';
import type { Labels, RankAccumulator } from './rank.js';

/** Who computes the distances: `auto` = the native addon's best path if loaded, else JS. */
export type HammingPath = 'auto' | 'js' | 'portable' | 'popcnt' | 'avx512';
/** The native addon's number for each of its paths (native/src/hamming.h). */
const NATIVE_PATH = { auto: -1, portable: 0, popcnt: 1, avx512: 2 } as const;

export interface HammingOptions {
  /** Default 'auto'. A native path the addon or the CPU lacks is an error. */
  readonly path?: HammingPath;
  /** Largest number of distances held at once (default 16 Mi: 64 MB). */
  readonly budgetFloats?: number;
}

/** 32-bit popcount (Hacker's Delight 5-2). */
function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

function hammingJs(q: Uint32Array, g: Uint32Array, halves: number, out: Float32Array): void {
  const nq = q.length / halves;
  const ng = g.length / halves;
  for (let i = 0; i < nq; i++) {
    const qa = i * halves;
    for (let j = 0, ga = 0; j < ng; j++) {
      let d = 0;
      for (let w = 0; w < halves; w++, ga++) d += popcount32(q[qa + w]! ^ g[ga]!);
      out[i * ng + j] = d;
    }
  }
}

/** The native paths that run here ([] without the addon). */
export function nativeHammingPaths(): Exclude<HammingPath, 'auto' | 'js'>[] {
  const native = loadedNativeKernels();
  if (native === null) return [];
  const mask = native.hammingPaths();
  return (['portable', 'popcnt', 'avx512'] as const).filter((p) => (mask & (1 << NATIVE_PATH[p])) !== 0);
}

/** The path `auto` takes now: the addon's best, or 'js'. */
export function resolveHammingPath(path: HammingPath = 'auto'): Exclude<HammingPath, 'auto'> {
  if (path === 'js') return path;
  const native = loadedNativeKernels();
  if (path === 'auto') return nativeHammingPaths().at(-1) ?? 'js'; // the native addon's auto: its highest path
  if (!nativeHammingPaths().includes(path)) {
    throw new PulError('backend.unavailable', `Hamming path "${path}" does not run here (native: ${native === null ? 'not loaded' : nativeHammingPaths().join(', ')})`, { option: 'hammingPath' });
  }
  return path;
}

/**
 * Yields query × gallery Hamming distances a block of query rows at a time (at most `budgetFloats`
 * values per block); a block's array is only valid until the next one is requested.
 * @example
 * for (const block of hammingDistanceBlocks(packSigns(q), packSigns(g))) console.log(block.first, block.data[0]);
 */
export function* hammingDistanceBlocks(query: PackedCodes, gallery: PackedCodes, options: HammingOptions = {}): Generator<DistanceBlock> {
  if (query.bits !== gallery.bits) throw new PulError('features.mismatch', `query codes have ${query.bits} bits, gallery codes ${gallery.bits}`);
  const path = resolveHammingPath(options.path);
  const native = path === 'js' ? null : loadedNativeKernels();
  const budget = options.budgetFloats ?? 1 << 24;
  const blockRows = Math.max(1, Math.min(query.rows, Math.floor(budget / Math.max(1, gallery.rows))));
  const W = query.words;
  const out = new Float32Array(blockRows * gallery.rows);
  const g32 = new Uint32Array(gallery.data.buffer, gallery.data.byteOffset, gallery.data.length * 2);
  for (let first = 0; first < query.rows; first += blockRows) {
    const rows = Math.min(blockRows, query.rows - first);
    const data = out.subarray(0, rows * gallery.rows);
    const q = query.data.subarray(first * W, (first + rows) * W);
    if (native !== null) native.hamming(q, gallery.data, W, data, NATIVE_PATH[path as keyof typeof NATIVE_PATH]);
    else hammingJs(new Uint32Array(q.buffer, q.byteOffset, q.length * 2), g32, W * 2, data);
    yield { first, rows, data };
  }
}

/** Queries per native ranking call: bounds the per-query counts and match lists held at once. */
const RANK_BLOCK = 1024;

/**
 * Ranks every query code against the gallery codes into `accumulator` (built on the gallery's labels):
 * native, the distances and the counting pass fused per query (no distance matrix); in JS, distance
 * blocks then RankAccumulator.addQueryCounts. Same ranks either way (ties: lower gallery index first).
 */
export function rankCodes(query: PackedCodes, gallery: PackedCodes, queryLabels: Labels, galleryLabels: Labels, accumulator: RankAccumulator, options: HammingOptions = {}): void {
  if (query.bits !== gallery.bits) throw new PulError('features.mismatch', `query codes have ${query.bits} bits, gallery codes ${gallery.bits}`);
  const path = resolveHammingPath(options.path);
  const native = path === 'js' ? null : loadedNativeKernels();
  const G = gallery.rows;
  if (native === null) {
    for (const block of hammingDistanceBlocks(query, gallery, options)) {
      for (let i = 0; i < block.rows; i++) {
        const qi = block.first + i;
        accumulator.addQueryCounts(qi, block.data.subarray(i * G, (i + 1) * G), query.bits, queryLabels.pids[qi]!, queryLabels.camids[qi]!);
      }
    }
    return;
  }
  const W = query.words;
  const bins = W * 64 + 1; // padding bits are 0 in both codes, so d ≤ bits ≤ 64·W
  for (let first = 0; first < query.rows; first += RANK_BLOCK) {
    const rows = Math.min(RANK_BLOCK, query.rows - first);
    const qPids = queryLabels.pids.subarray(first, first + rows);
    const qCams = queryLabels.camids.subarray(first, first + rows);
    const offsets = new Int32Array(rows + 1);
    for (let i = 0; i < rows; i++) offsets[i + 1] = offsets[i]! + accumulator.matchCount(qPids[i]!, qCams[i]!);
    const counts = new Int32Array(rows * bins);
    const matchDist = new Int32Array(offsets[rows]!);
    const equalBefore = new Int32Array(offsets[rows]!);
    native.hammingRank(
      query.data.subarray(first * W, (first + rows) * W), gallery.data, W, galleryLabels.pids, galleryLabels.camids, qPids, qCams, accumulator.removeSameCamera ? 1 : 0,
      counts, offsets, matchDist, equalBefore, NATIVE_PATH[path as keyof typeof NATIVE_PATH],
    );
    for (let i = 0; i < rows; i++) {
      const [a, b] = [offsets[i]!, offsets[i + 1]!];
      accumulator.addCountedQuery(first + i, counts.subarray(i * bins, (i + 1) * bins), matchDist.subarray(a, b), equalBefore.subarray(a, b));
    }
  }
}
