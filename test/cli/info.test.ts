import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from '../helpers/run-cli.js';

/** dist/test/cli → the package root's native addon. */
const ADDON = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../native/build/Release/pul_native.node');

test('pul info --json names a loaded backend and why better ones were not used', async () => {
  const r = await runCli(['info', '--json'], { PUL_BACKEND: '' });
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout) as { backend: string; attempts: { backend: string; loaded: boolean; reason?: string }[]; cpuCount: number };
  assert.ok(['tfjs-node-gpu', 'tfjs-node', 'wasm', 'cpu'].includes(info.backend));
  const last = info.attempts.at(-1);
  assert.equal(last?.backend, info.backend);
  assert.equal(last?.loaded, true);
  for (const a of info.attempts.slice(0, -1)) {
    assert.equal(a.loaded, false);
    assert.ok(a.reason && a.reason.length > 0, `a reason for ${a.backend}`);
  }
  assert.ok(info.cpuCount >= 1);
});

test('pul info prints a human account', async () => {
  const r = await runCli(['info', '--backend', 'cpu']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^backend: cpu/m);
  assert.match(r.stdout, /tfjs: 4\./);
});

test('an unknown backend is a usage error naming the option', async () => {
  const r = await runCli(['--backend', 'tpu', 'info']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /\(--backend\): unknown backend 'tpu'/);
});

/** Whether an optional package is installed where the CLI would find it. */
function installed(name: string): boolean {
  try {
    createRequire(import.meta.url).resolve(name);
    return true;
  } catch {
    return false;
  }
}

test('a backend that cannot load is an error naming it and what is missing', async () => {
  const r = await runCli(['info'], { PUL_BACKEND: 'tfjs-node-gpu' });
  if (!installed('@tensorflow/tfjs-node-gpu')) {
    assert.equal(r.code, 2, r.stdout);
    assert.match(r.stderr, /backend 'tfjs-node-gpu' cannot be loaded — tfjs-node-gpu: not installed/);
  } else if (r.code === 0) {
    assert.match(r.stdout, /^backend: tfjs-node-gpu/m);
  } else {
    // installed but unloadable (no CUDA): the reason is the load failure, not a missing package
    assert.equal(r.code, 2);
    assert.match(r.stderr, /backend 'tfjs-node-gpu' cannot be loaded — tfjs-node-gpu: (?!not installed)/);
  }
});

test('the wasm backend runs threaded (PUL_THREADS) and the process still exits by itself', async () => {
  const r = await runCli(['info', '--json', '--backend', 'wasm'], { PUL_THREADS: '2' });
  assert.equal(r.code, 0, r.stderr);
  const info = JSON.parse(r.stdout) as { backend: string; wasmThreads: number; wasmSimd: boolean };
  assert.equal(info.backend, 'wasm');
  assert.equal(info.wasmThreads, 2);
  const single = await runCli(['info', '--json', '--backend', 'wasm'], { PUL_THREADS: '1', PUL_NATIVE: '0' });
  assert.equal((JSON.parse(single.stdout) as { wasmThreads: number }).wasmThreads, 1);
});

test('a bad PUL_THREADS is a usage error naming the variable', async () => {
  const r = await runCli(['info'], { PUL_THREADS: 'many' });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /PUL_THREADS must be a whole number ≥ 1, got 'many'/);
});

test('pul info says whether the native kernels are on, and why not', async () => {
  const off = await runCli(['info', '--backend', 'wasm'], { PUL_NATIVE: '0' });
  assert.equal(off.code, 0, off.stderr);
  assert.match(off.stdout, /^native kernels: off — disabled by PUL_NATIVE=0$/m);
  // the addon is built at install when a C compiler is present; the CLI must report exactly that
  const on = await runCli(['info', '--backend', 'wasm'], { PUL_THREADS: '2' });
  assert.equal(on.code, 0, on.stderr);
  if (existsSync(ADDON)) {
    assert.match(on.stdout, /^native kernels: on \((AVX-512|AVX2\/FMA|portable) GEMM, 2 threads\)$/m);
    // PUL_ISA forces the GEMM's instruction set (the portable kernel runs everywhere); one this CPU lacks is a usage error
    const forced = await runCli(['info', '--backend', 'wasm'], { PUL_THREADS: '2', PUL_ISA: 'scalar' });
    assert.match(forced.stdout, /^native kernels: on \(portable GEMM, set by PUL_ISA, 2 threads\)$/m);
    const bad = await runCli(['info', '--backend', 'wasm'], { PUL_ISA: 'avx9' });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /PUL_ISA must be auto or one of scalar(, avx2)?(, avx512)? .*got 'avx9'/);
  } else assert.match(on.stdout, /^native kernels: off — not built \(npm run build:native/m);
  const cpu = await runCli(['info', '--json', '--backend', 'cpu']);
  assert.equal((JSON.parse(cpu.stdout) as { native: unknown }).native, null);
});
