/**
 * pul's optional native kernels (native/, built by node-gyp at install): convolutions and their
 * gradients as im2col + SGEMM (AVX-512 or AVX2/FMA as the CPU allows; PUL_ISA=avx2 forces AVX2), and the
 * per-channel, pooling and element-wise kernels of training, on every core, working in place on the wasm
 * heap. Where the build failed (no compiler) or PUL_NATIVE=0, pul uses its WebAssembly/JS kernels instead.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PulError } from '../core/errors.js';

export interface NativeKernels {
  conv2d(heap: Float32Array, x: number, f: number, bias: number, y: number, dims: Int32Array, relu: number): void;
  conv2dBackpropInput(heap: Float32Array, dy: number, f: number, dx: number, dims: Int32Array): void;
  conv2dBackpropFilter(heap: Float32Array, x: number, dy: number, df: number, dims: Int32Array): void;
  channelSum(heap: Float32Array, x: number, out: number, rows: number, channels: number, scale: number): void;
  broadcastChannels(heap: Float32Array, v: number, out: number, rows: number, channels: number, scale: number): void;
  /** y = x · a[c] + b[c] over rows × channels. */
  channelAffine(heap: Float32Array, x: number, a: number, b: number, y: number, rows: number, channels: number): void;
  batchNormGrad(
    heap: Float32Array, x: number, dy: number, mean: number, variance: number, scale: number,
    dx: number, dMean: number, dVariance: number, dScale: number, dOffset: number, rows: number, channels: number, epsilon: number,
  ): void;
  maxPoolGrad(heap: Float32Array, x: number, dy: number, dx: number, dims: Int32Array): void;
  /** y of max pooling, dims as maxPoolGrad's. Optional: an addon built before it lacks it (the backend's kernel then runs). */
  maxPool?(heap: Float32Array, x: number, y: number, dims: Int32Array): void;
  /**
   * Training-mode batch norm (+ ReLU) over rows × channels: batch mean and biased variance, y = x·a + b
   * (see native/src/batch-norm.h). Optional: an addon built before it lacks it, and batch norm then
   * trains through tfjs-layers' own ops.
   */
  batchNormTraining?(heap: Float32Array, x: number, scale: number, offset: number, y: number, mean: number, variance: number, rows: number, channels: number, relu: number, epsilon: number): void;
  /** The gradient of batchNormTraining's y with respect to x, scale and offset. */
  batchNormTrainingGrad?(
    heap: Float32Array, x: number, dy: number, scale: number, offset: number, mean: number, variance: number,
    dx: number, dScale: number, dOffset: number, rows: number, channels: number, relu: number, epsilon: number,
  ): void;
  /** out = a op b (op 0 add, 1 sub, 2 mul, 3 square: b unused) over rows × channels; mode 0: b whole, 1: b[c], 2: b[0]. */
  elementwise(heap: Float32Array, op: number, mode: number, a: number, b: number, out: number, rows: number, channels: number): void;
  batchMatMul(heap: Float32Array, a: number, b: number, c: number, batch: number, m: number, n: number, k: number, transA: number, transB: number, broadcastB: number): void;
  sgemm(a: Float32Array, b: Float32Array, c: Float32Array, m: number, n: number, k: number, transA: number, transB: number): void;
  /** Packs op(b) (k×n) into `packed` for sgemmPacked; returns the length `packed` needs (writes nothing when shorter). */
  sgemmPackB(b: Float32Array, packed: Float32Array, n: number, k: number, transB: number): number;
  /** c = op(a)·B, B packed by sgemmPackB: the same bits as sgemm on the unpacked operands. */
  sgemmPacked(a: Float32Array, packed: Float32Array, c: Float32Array, m: number, n: number, k: number, transA: number): void;
  /** One k-means assignment step with Yinyang bounds (drift null: search everything); see native/src/kmeans.h. Returns the distances computed. */
  kmeansStep(
    x: Float32Array, d: number, xNorms: Float64Array, centres: Float32Array, cNorms: Float64Array, order: Int32Array, start: Int32Array, groupOf: Int32Array,
    centres64: Float64Array, drift: Float64Array | null, labels: Int32Array, upper: Float64Array, lower: Float64Array,
  ): number;
  /** k-means: moves the rows whose label changed between the per-centre float64 sums and counts; updates `previous`. */
  kmeansAccumulate(x: Float32Array, d: number, labels: Int32Array, previous: Int32Array, sums: Float64Array, counts: Float64Array): void;
  /** out[i·G + j] = popcount(q_i XOR g_j), `words` 64-bit words per row; path −1 auto, 0 portable, 1 POPCNT, 2 AVX-512 VPOPCNTDQ (native/src/hamming.h). */
  hamming(q: BigUint64Array, g: BigUint64Array, words: number, out: Float32Array, path: number): void;
  /** Hamming ranking by counting, fused with the distances (native/src/hamming.h, pul_hamming_rank). */
  hammingRank(
    q: BigUint64Array, g: BigUint64Array, words: number, gPids: Int32Array, gCams: Int32Array, qPids: Int32Array, qCams: Int32Array, removeSameCamera: number,
    counts: Int32Array, offsets: Int32Array, matchDist: Int32Array, equalBefore: Int32Array, path: number,
  ): void;
  /**
   * The `cap` smallest squared distances ‖xᵢ‖² + ‖xⱼ‖² − 2·dots (j ≠ i) of each row i = first + r of a
   * block of dot products (rows × n), nearest first, into idx/dist at i·stride + skip (native/src/knn.h).
   * Optional: an addon built before it lacks it and pul selects in JS.
   */
  topkRows?(dots: Float32Array, rows: number, n: number, norms: Float64Array, first: number, cap: number, stride: number, skip: number, idx: Int32Array, dist: Float32Array): void;
  /** One SGD-momentum step of n weights as tfjs's kernels round it (native/src/channels.h). Optional: an older addon lacks it. */
  sgdMomentum?(heap: Float32Array, w: number, a: number, g: number, nw: number, na: number, n: number, c: number, m: number, wd: number): void;
  /** Bit p set when Hamming path p runs on this CPU; `auto` takes the highest. */
  hammingPaths(): number;
  threads(set?: number): number;
  avx2(): boolean;
  /** The GEMM micro-kernel's instruction set ('avx512' | 'avx2' | 'scalar'); with a name, uses that one ('auto': the widest). */
  isa(name?: string): string;
  /** The instruction sets isa(name) accepts on this CPU, narrowest first. */
  isas(): string[];
}

export interface NativeStatus {
  readonly loaded: boolean;
  /** Why not, when not loaded. */
  readonly reason?: string;
  readonly threads?: number;
  readonly avx2?: boolean;
  /** The GEMM micro-kernel's instruction set, chosen from the CPU's features unless PUL_ISA forces one. */
  readonly isa?: string;
  /** True when PUL_ISA chose it. */
  readonly isaForced?: boolean;
}

const require = createRequire(import.meta.url);
/** dist/src/backend → the package root. */
const ADDON = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../native/build/Release/pul_native.node');

let loaded: { kernels: NativeKernels | null; status: NativeStatus } | null = null;

/** Every function this version calls: an addon built from older sources lacks some (a pull without a rebuild). */
const REQUIRED: readonly (keyof NativeKernels)[] = [
  'channelSum', 'broadcastChannels', 'channelAffine', 'batchNormGrad', 'maxPoolGrad', 'elementwise', 'batchMatMul', 'sgemm', 'sgemmPackB', 'sgemmPacked',
  'kmeansStep', 'kmeansAccumulate', 'hamming', 'hammingRank', 'hammingPaths', 'threads', 'avx2', 'isa', 'isas',
];

/** Loads the addon once; `threads` sets its worker count. */
export function loadNativeKernels(threads: number): { kernels: NativeKernels | null; status: NativeStatus } {
  if (loaded !== null) return loaded;
  if (process.env['PUL_NATIVE'] === '0') {
    loaded = { kernels: null, status: { loaded: false, reason: 'disabled by PUL_NATIVE=0' } };
  } else if (!existsSync(ADDON)) {
    loaded = { kernels: null, status: { loaded: false, reason: 'not built (npm run build:native; needs a C compiler and Node headers)' } };
  } else {
    try {
      const kernels = require(ADDON) as NativeKernels;
      const missing = REQUIRED.filter((name) => typeof kernels[name] !== 'function');
      if (missing.length > 0) {
        loaded = { kernels: null, status: { loaded: false, reason: `${ADDON} is older than this pul (no ${missing.join(', ')}): rebuild it with npm run build:native` } };
        return loaded;
      }
      kernels.threads(threads);
      loaded = { kernels, status: { loaded: true, threads: kernels.threads() } };
    } catch (err) {
      loaded = { kernels: null, status: { loaded: false, reason: `cannot load ${ADDON}: ${(err as Error).message.split('\n')[0]}` } };
    }
    if (loaded.kernels !== null) {
      const kernels = loaded.kernels;
      const forced = applyIsaOverride(kernels);
      loaded = { kernels, status: { ...loaded.status, avx2: kernels.avx2(), isa: kernels.isa(), isaForced: forced } };
    }
  }
  return loaded;
}

/** PUL_ISA=avx2 (or scalar, avx512, auto) forces the GEMM micro-kernel's instruction set; true when it did. */
function applyIsaOverride(kernels: NativeKernels): boolean {
  const wanted = process.env['PUL_ISA'];
  if (wanted === undefined || wanted === '') return false;
  const names = kernels.isas();
  if (wanted !== 'auto' && !names.includes(wanted)) {
    loaded = null; // a corrected PUL_ISA may load them later
    throw new PulError('option.invalid', `PUL_ISA must be auto or one of ${names.join(', ')} (the instruction sets this CPU runs), got '${wanted}'`, { option: 'PUL_ISA' });
  }
  kernels.isa(wanted);
  return wanted !== 'auto';
}

/** The native kernels if an earlier backend selection loaded them (k-means uses them on any backend then). */
export function loadedNativeKernels(): NativeKernels | null {
  return loaded?.kernels ?? null;
}
