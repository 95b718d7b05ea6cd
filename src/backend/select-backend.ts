/**
 * Chooses the TensorFlow.js backend: the fastest that loads, in the order
 * tfjs-node-gpu → tfjs-node → wasm → cpu, and says why each faster one was not used.
 *
 * tfjs-node(-gpu) are optional dependencies: their install downloads libtensorflow, which fails on
 * machines without internet, and npm then leaves them out. On such a machine pul uses wasm (SIMD),
 * with pul's own gradient kernels registered for what the wasm backend lacks.
 */
import os from 'node:os';
import { createRequire } from 'node:module';
import type * as WasmBackend from '@tensorflow/tfjs-backend-wasm';
import { isPulError, PulError } from '../core/errors.js';
import { tf } from './tf.js';
import { registerPulKernels } from './register-kernels.js';
import { prepareWasmThreads, wasmThreadsWanted } from './wasm-threads.js';
import { loadNativeKernels, type NativeStatus } from './native.js';

/** The compute backends, in the order `auto` tries them. */
export const BACKEND_NAMES = ['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'] as const;
/** One of BACKEND_NAMES. */
export type BackendName = (typeof BACKEND_NAMES)[number];
/** A backend name, or `auto` (the first that loads). */
export type BackendChoice = BackendName | 'auto';

/** One backend tried by selectBackend, and why it did not load. */
export interface BackendAttempt {
  readonly backend: BackendName;
  readonly loaded: boolean;
  /** Why it did not load ("not installed", the loader's error), when it did not. */
  readonly reason?: string;
}

/** The backend selectBackend activated and what it found on the way. */
export interface BackendInfo {
  readonly backend: BackendName;
  /** The tfjs engine's own name for it ("tensorflow", "wasm", "cpu"). */
  readonly tfjsBackend: string;
  readonly tfjsVersion: string;
  readonly requested: BackendChoice;
  /** Every backend tried before (and including) the chosen one, in order. */
  readonly attempts: readonly BackendAttempt[];
  readonly wasmSimd: boolean | null;
  readonly wasmThreads: number | null;
  readonly cpuCount: number;
  /** Kernels pul registered for this backend (its own gradient kernels). */
  readonly pulKernels: readonly string[];
  /** pul's native convolution kernels (wasm backend only; null on other backends). */
  readonly native: NativeStatus | null;
}

const require = createRequire(import.meta.url);
let wasmInitialised = false;

/** Loads one backend into the tfjs engine; resolves to the engine's backend name or throws why not. */
const BACKEND_LOADERS = {
  'tfjs-node-gpu': () => loadNative('@tensorflow/tfjs-node-gpu'),
  'tfjs-node': () => loadNative('@tensorflow/tfjs-node'),
  wasm: async () => {
    const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof WasmBackend;
    const threads = wasmThreadsWanted();
    // Threads are decided when the backend is first initialised (tf.findBackend would initialise it).
    if (threads < 2 || wasmInitialised) return activate('wasm');
    const restore = prepareWasmThreads(threads, (n) => wasm.setThreadsCount(n));
    try {
      return await activate('wasm');
    } finally {
      wasmInitialised = true;
      restore();
    }
  },
  cpu: () => activate('cpu'),
} satisfies Record<BackendName, () => Promise<string>>;

async function loadNative(pkg: string): Promise<string> {
  try {
    require.resolve(pkg);
  } catch {
    throw new Error('not installed (its install downloads libtensorflow; see README "Backends")');
  }
  // The package registers the 'tensorflow' backend into the shared engine when loaded.
  require(pkg);
  return activate('tensorflow');
}

async function activate(name: string): Promise<string> {
  const ok = await tf.setBackend(name);
  if (!ok || tf.getBackend() !== name) throw new Error(`tf.setBackend('${name}') failed`);
  await tf.ready();
  return name;
}

let current: BackendInfo | null = null;

/** The backend chosen by the last selectBackend() call, or null before any. */
export function currentBackend(): BackendInfo | null {
  return current;
}

/** A backend name as typed → BackendChoice; an unknown name is backend.unknown naming `option` (default the config key `backend`). */
export function parseBackendChoice(value: string, option = 'backend'): BackendChoice {
  if (value === 'auto' || (BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendChoice;
  throw new PulError('backend.unknown', `unknown backend '${value}'; choose one of auto, ${BACKEND_NAMES.join(', ')}`, { option });
}

/**
 * Loads and activates a backend. `choice` defaults to $PUL_BACKEND, else 'auto'.
 * Calling it again with the backend already active is cheap.
 */
export async function selectBackend(choice?: BackendChoice): Promise<BackendInfo> {
  const requested = requestedBackend(choice);
  if (current && (requested === current.requested || requested === current.backend) && tf.getBackend() === current.tfjsBackend) {
    return current;
  }
  wasmThreadsWanted(); // a bad PUL_THREADS is a usage error, not a reason to fall back to cpu
  const candidates: readonly BackendName[] = requested === 'auto' ? BACKEND_NAMES : [requested];
  const attempts: BackendAttempt[] = [];
  for (const backend of candidates) {
    try {
      const tfjsBackend = await BACKEND_LOADERS[backend]();
      attempts.push({ backend, loaded: true });
      const native = tfjsBackend === 'wasm' ? loadNativeKernels(wasmThreadsWanted()) : null;
      const pulKernels = registerPulKernels(tfjsBackend, native?.kernels ?? null);
      current = {
        backend,
        tfjsBackend,
        tfjsVersion: tf.version_core,
        requested,
        attempts,
        ...(await wasmDetails(tfjsBackend)),
        cpuCount: os.availableParallelism(),
        pulKernels,
        native: native?.status ?? null,
      };
      return current;
    } catch (err) {
      if (isPulError(err) && err.code === 'option.invalid') throw err; // a bad PUL_ISA: a usage error, not a fallback
      attempts.push({ backend, loaded: false, reason: firstLine(err) });
    }
  }
  const why = attempts.map((a) => `${a.backend}: ${a.reason ?? 'unknown'}`).join('; ');
  throw new PulError('backend.unavailable', `backend '${requested}' cannot be loaded — ${why}`, { option: 'backend' });
}

/**
 * Readies what k-means and the reliable selection compute on. Their GEMMs and the k-means step run on
 * pul's native kernels when those are loaded, on any backend, and never touch tfjs then: so when the
 * request (as selectBackend's) is auto or wasm and the native kernels load, no tfjs backend is started
 * (its start costs ~0.5 s of a `pul cluster`). Otherwise the backend is selected as selectBackend does.
 * Resolves to the backend selected, or null when only the native kernels are used.
 */
export async function selectClusteringBackend(choice?: BackendChoice): Promise<BackendInfo | null> {
  const requested = requestedBackend(choice);
  if ((requested === 'auto' || requested === 'wasm') && loadNativeKernels(wasmThreadsWanted()).kernels !== null) return null;
  return selectBackend(requested);
}

/** `choice`, else $PUL_BACKEND, else 'auto'. */
function requestedBackend(choice: BackendChoice | undefined): BackendChoice {
  const envChoice = process.env['PUL_BACKEND'];
  return choice ?? (envChoice ? parseBackendChoice(envChoice, 'PUL_BACKEND') : 'auto');
}

async function wasmDetails(tfjsBackend: string): Promise<{ wasmSimd: boolean | null; wasmThreads: number | null }> {
  if (tfjsBackend !== 'wasm') return { wasmSimd: null, wasmThreads: null };
  const wasm = require('@tensorflow/tfjs-backend-wasm') as typeof WasmBackend;
  const simd = (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) as boolean;
  return { wasmSimd: simd, wasmThreads: wasm.getThreadsCount() };
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0] ?? message;
}
