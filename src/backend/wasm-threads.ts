/**
 * Starts tfjs-backend-wasm's threaded SIMD build under Node, so XNNPACK's convolutions and GEMMs use
 * every core (2 threads: 1024³ matmul 24 → 46 GFLOP/s here). tfjs 4.22 does not do it by itself:
 * - it reports no thread support when running under Node (tfjs issue 3830);
 * - it builds the pthread worker script and the module factory as Blob URLs, which Node's Worker
 *   cannot load: pul writes those texts to temp files instead (removed at exit);
 * - it caps the pool at logical cores / 2 (assuming hyper-threading), i.e. one thread on a 2-core
 *   machine: pul reports twice the core count while the backend initialises, then restores it;
 * - its pool workers would keep Node's event loop alive forever: pul unrefs them once loaded.
 * Call prepareWasmThreads() before the wasm backend is first initialised.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Worker as NodeWorker } from 'node:worker_threads';
import { PulError } from '../core/errors.js';
import { tf } from './tf.js';

const require = createRequire(import.meta.url);
const workerThreads = require('node:worker_threads') as { Worker: typeof NodeWorker };

/** The free names the bundled factory refers to (bound by the bundle's own scope). */
const FACTORY_PRELUDE =
  "var require$$0=require('fs'),require$$1=require('path'),require$$3=require('perf_hooks'),require$$4=require('os'),commonjsGlobal=globalThis;";

let tempDir: string | null = null;

function tempDirectory(): string {
  if (tempDir === null) {
    removeDirectoriesOfDeadProcesses();
    const dir = path.join(os.tmpdir(), `pul-wasm-${process.pid}`);
    fs.mkdirSync(dir, { recursive: true });
    tempDir = dir;
    process.once('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  }
  return tempDir;
}

/** A killed process cannot clean up after itself: the next one does. */
function removeDirectoriesOfDeadProcesses(): void {
  for (const name of fs.readdirSync(os.tmpdir())) {
    const pid = /^pul-wasm-(\d+)$/.exec(name)?.[1];
    if (pid === undefined || Number(pid) === process.pid || isAlive(Number(pid))) continue;
    fs.rmSync(path.join(os.tmpdir(), name), { recursive: true, force: true });
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Makes the next wasm backend initialisation start `threads` threads (≥ 2). Returns a function that
 * undoes the temporary patches; call it once the backend is initialised.
 */
export function prepareWasmThreads(threads: number, setThreadsCount: (n: number) => void): () => void {
  const dir = tempDirectory();
  const OriginalBlob = globalThis.Blob;
  const texts = new WeakMap<Blob, string>();
  let factoryPath: string | null = null;
  let scriptCount = 0;

  class RecordingBlob extends OriginalBlob {
    constructor(...args: ConstructorParameters<typeof Blob>) {
      super(...args);
      const text = (args[0] ?? []).map(String).join('');
      texts.set(this, text);
      if (text.startsWith('var WasmBackendModuleThreadedSimd')) {
        factoryPath = path.join(dir, 'factory.js');
        fs.writeFileSync(factoryPath, FACTORY_PRELUDE + text);
      }
    }
  }
  const originalCreateObjectURL = URL.createObjectURL.bind(URL);
  URL.createObjectURL = (blob: Blob): string => {
    const text = texts.get(blob);
    if (text === undefined) return originalCreateObjectURL(blob);
    let code = text;
    if (code.includes('urlOrBlob') && factoryPath !== null) {
      // The worker imports the factory from a file rather than from a posted Blob.
      code = code.replace('typeof e.data.urlOrBlob=="string"', 'true').replace('importScripts(e.data.urlOrBlob)', `importScripts(${JSON.stringify(factoryPath)})`);
    }
    const file = path.join(dir, `script-${++scriptCount}.js`);
    fs.writeFileSync(file, code);
    return file;
  };
  globalThis.Blob = RecordingBlob;

  const originalCpus = os.cpus;
  os.cpus = () => {
    const cpus = originalCpus();
    return [...cpus, ...cpus];
  };
  const OriginalWorker = workerThreads.Worker;
  const workers: NodeWorker[] = [];
  let initialised = false;
  workerThreads.Worker = class PoolWorker extends OriginalWorker {
    constructor(...args: ConstructorParameters<typeof NodeWorker>) {
      super(...args);
      if (initialised) this.unref();
      else workers.push(this);
    }
  };
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  setThreadsCount(threads);

  return () => {
    globalThis.Blob = OriginalBlob;
    URL.createObjectURL = originalCreateObjectURL;
    os.cpus = originalCpus;
    workerThreads.Worker = OriginalWorker;
    // The backend captured the PoolWorker class; later pool growth unrefs at creation.
    initialised = true;
    for (const worker of workers) worker.unref();
  };
}

/** Threads to use: $PUL_THREADS, else every available core. 1 means the single-threaded build. */
export function wasmThreadsWanted(): number {
  const env = process.env['PUL_THREADS'];
  if (env !== undefined && env !== '') {
    const n = Number(env);
    if (!Number.isInteger(n) || n < 1) throw new PulError('option.invalid', `PUL_THREADS must be a whole number ≥ 1, got '${env}'`, { option: 'PUL_THREADS' });
    return n;
  }
  return os.availableParallelism();
}
