/**
 * npm run bench:backend — forward (batch 256) and train-step (batch 64, SGD momentum 0.9, weight decay
 * 5e-4, cross-entropy) images/s of the two reference nets of ../shared/peers (train_ref.py's SmallCNN),
 * beside PyTorch's figures on this machine, as ratios. PyTorch runs in the same session when it can.
 */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { BACKEND_NAMES, selectBackend, tf, type BackendChoice } from '../src/index.js';
import { buildReferenceNet, REFERENCE_NETS, referenceTrainStep, type ReferenceNetName } from './reference-nets.js';
import { peerFigures, table } from './peers.js';

interface TrainRefResult {
  results: { variant: string; forward_img_s: number; train_img_s: number }[];
}

const RUNS = Number(process.env['PUL_BENCH_RUNS'] ?? 7);

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function measure(name: ReferenceNetName): Promise<{ forward: number; train: number; stepMs: number; forwardMs: number }> {
  const spec = REFERENCE_NETS[name];
  const step = referenceTrainStep(name);
  const model = step.model;
  const xf = tf.randomNormal([256, ...spec.input]);
  const xb = tf.randomNormal([64, ...spec.input]);
  const yb = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % spec.classes), 'int32'), spec.classes));
  const forwardOnce = async () => {
    const y = model.predict(xf) as tf.Tensor;
    await y.data();
    y.dispose();
  };
  const trainOnce = () => step.run();
  const trainModeForward = async () => {
    const l = tf.tidy(() => tf.losses.softmaxCrossEntropy(yb, model.apply(xb, { training: true }) as tf.Tensor));
    await l.data();
    l.dispose();
  };
  const batchesPerRun = name === 'fmnist' ? 5 : 1;
  const timeRuns = async (fn: () => Promise<void>, images: number) => {
    for (let i = 0; i < 3; i++) await fn(); // warm-up, as train_ref.py
    const rates: number[] = [];
    const ms: number[] = [];
    for (let r = 0; r < RUNS; r++) {
      const t = performance.now();
      for (let b = 0; b < batchesPerRun; b++) await fn();
      const elapsed = performance.now() - t;
      rates.push((images * batchesPerRun * 1000) / elapsed);
      ms.push(elapsed / batchesPerRun);
    }
    return { rate: median(rates), ms: median(ms) };
  };
  const forward = await timeRuns(forwardOnce, 256);
  const train = await timeRuns(trainOnce, 64);
  const fwd64 = await timeRuns(trainModeForward, 64);
  tf.dispose([xf, xb, yb]);
  step.dispose();
  return { forward: forward.rate, train: train.rate, stepMs: train.ms, forwardMs: fwd64.ms };
}

/**
 * The machine's fp32 peak as the issue defines it: cores × FMA width (lanes of the widest vector ISA the
 * CPU reports: 16 with AVX-512F, 8 with AVX2+FMA, else 4) × 2 (an FMA is two flops) × clock. Cores with
 * two FMA pipes (Zen, Intel server cores) reach twice this; the figure is a yardstick, not a bound.
 */
function fp32Peak(): { gflops: number; formula: string } {
  let flags = new Set<string>();
  let mhz = os.cpus()[0]?.speed ?? 0;
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    flags = new Set(/^flags\s*:(.*)$/m.exec(info)?.[1]?.trim().split(/\s+/) ?? []);
    mhz = Number(/^cpu MHz\s*:\s*([\d.]+)/m.exec(info)?.[1] ?? mhz);
  } catch {
    // not Linux: the clock os.cpus() reports, 4 lanes
  }
  const [lanes, isa] = flags.has('avx512f') ? [16, 'AVX-512'] : flags.has('avx2') && flags.has('fma') ? [8, 'AVX2+FMA'] : [4, 'SSE/NEON'];
  const cores = os.cpus().length;
  const gflops = (cores * lanes * 2 * mhz) / 1000;
  return { gflops, formula: `${cores} cores × ${lanes} lanes (${isa}) × 2 × ${(mhz / 1000).toFixed(2)} GHz = ${gflops.toFixed(0)} GFLOP/s` };
}

/** Forward time and GFLOP/s of each layer of a reference net at batch 64 in training mode (the step's shapes). */
async function layerProfile(name: ReferenceNetName, peak: number): Promise<(string | number)[][]> {
  const spec = REFERENCE_NETS[name];
  const model = buildReferenceNet(name);
  let x: tf.Tensor = tf.randomNormal([64, ...spec.input]);
  const rows: (string | number)[][] = [];
  let totalFlops = 0;
  let totalMs = 0;
  for (const [i, layer] of model.layers.slice(1).entries()) {
    const input = x;
    const once = async (): Promise<tf.Tensor> => {
      const y = layer.apply(input, { training: true }) as tf.Tensor;
      await y.data();
      return y;
    };
    (await once()).dispose();
    const reps = 3;
    const t = performance.now();
    for (let r = 0; r < reps - 1; r++) (await once()).dispose();
    const y = await once();
    const ms = (performance.now() - t) / reps;
    const config = layer.getConfig();
    const inShape = input.shape;
    const outShape = y.shape;
    let flops = 0;
    const cls = layer.getClassName();
    if (cls === 'Conv2D') {
      const [kh, kw] = config['kernelSize'] as number[];
      flops = 2 * outShape[0] * outShape[1]! * outShape[2]! * kh! * kw! * inShape[3]! * outShape[3]!;
    } else if (cls === 'Dense') {
      flops = 2 * outShape[0] * inShape[1]! * outShape[1]!;
    }
    totalFlops += flops;
    totalMs += ms;
    const gflops = flops / ms / 1e6;
    rows.push([`${name} ${i + 1} ${cls}`, outShape.slice(1).join('×'), flops ? +(flops / 1e6).toFixed(1) : '–', +ms.toFixed(3), flops ? +gflops.toFixed(1) : '–', flops ? `${((100 * gflops) / peak).toFixed(1)} %` : '–']);
    x = y;
    input.dispose();
  }
  x.dispose();
  model.dispose();
  const g = totalFlops / totalMs / 1e6;
  rows.push([`${name} forward, all layers`, '', +(totalFlops / 1e6).toFixed(1), +totalMs.toFixed(3), +g.toFixed(1), `${((100 * g) / peak).toFixed(1)} %`]);
  return rows;
}

async function main(): Promise<void> {
  const requested = (process.argv[2] ?? 'auto') as BackendChoice;
  if (requested !== 'auto' && !(BACKEND_NAMES as readonly string[]).includes(requested)) throw new Error(`unknown backend ${requested}`);
  const info = await selectBackend(requested);
  process.stderr.write(`backend ${info.backend}${info.wasmThreads ? `, ${info.wasmThreads} threads` : ''}${info.native?.loaded ? `, native GEMM ${info.native.isa ?? '?'}` : ''}; ${RUNS} timed runs each\n`);
  const ours: Record<string, Awaited<ReturnType<typeof measure>>> = {};
  for (const name of Object.keys(REFERENCE_NETS) as ReferenceNetName[]) {
    process.stderr.write(`measuring ${name} …\n`);
    ours[name] = await measure(name);
  }
  process.stderr.write('running the PyTorch reference (train_ref.py) …\n');
  const peer = await peerFigures<TrainRefResult>('train_ref.py', ['--runs', String(RUNS)], 'train');
  const rows = (Object.keys(REFERENCE_NETS) as ReferenceNetName[]).map((name) => {
    const ref = peer.value.results.find((r) => r.variant === name)!;
    const o = ours[name]!;
    return [name, o.forward, ref.forward_img_s, o.forward / ref.forward_img_s, o.train, ref.train_img_s, o.train / ref.train_img_s, (o.stepMs - o.forwardMs) / o.forwardMs];
  });
  const gemm = info.native?.loaded ? `; native GEMM: ${info.native.isa ?? 'unknown'}${info.native.isaForced ? ' (set by PUL_ISA)' : ''}` : '';
  process.stdout.write(`pul backend: ${info.backend}${info.wasmThreads ? ` (${info.wasmThreads} threads, SIMD ${info.wasmSimd ? 'on' : 'off'})` : ''}${gemm}; PyTorch: ${peer.source}\n`);
  process.stdout.write(`${table(['net', 'fwd img/s', 'torch fwd', 'ratio', 'train img/s', 'torch train', 'ratio', 'backward/forward'], rows)}\n`);
  // how far from the machine's limit: per layer (forward, batch 64, training mode), and the whole step
  // (a step does ~3× the forward's multiply-adds: forward, input gradient, weight gradient)
  const peak = fp32Peak();
  process.stdout.write(`\nfp32 peak: ${peak.formula}\n`);
  const layers: (string | number)[][] = [];
  for (const name of Object.keys(REFERENCE_NETS) as ReferenceNetName[]) {
    const profile = await layerProfile(name, peak.gflops);
    const forwardFlops = Number(profile.at(-1)![2]) * 1e6;
    const stepG = (3 * forwardFlops) / ours[name]!.stepMs / 1e6;
    layers.push(...profile, [`${name} train step (3 × forward FLOPs)`, '', +((3 * forwardFlops) / 1e6).toFixed(1), +ours[name]!.stepMs.toFixed(3), +stepG.toFixed(1), `${((100 * stepG) / peak.gflops).toFixed(1)} %`]);
  }
  process.stdout.write(`${table(['layer', 'output', 'MFLOP', 'ms', 'GFLOP/s', 'of peak'], layers)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
