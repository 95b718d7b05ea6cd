/**
 * npm run bench:backend — forward (batch 256) and train-step (batch 64, SGD momentum 0.9, weight decay
 * 5e-4, cross-entropy) images/s of the two reference nets of ../shared/peers (train_ref.py's SmallCNN),
 * beside PyTorch's figures on this machine, as ratios. PyTorch runs in the same session when it can.
 */
import { BACKEND_NAMES, selectBackend, tf, type BackendChoice } from '../src/index.js';
import { buildReferenceNet, REFERENCE_NETS, type ReferenceNetName } from './reference-nets.js';
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
  const model = buildReferenceNet(name);
  const optimizer = tf.train.momentum(0.01, 0.9);
  const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const xf = tf.randomNormal([256, ...spec.input]);
  const xb = tf.randomNormal([64, ...spec.input]);
  const yb = tf.tidy(() => tf.oneHot(tf.tensor1d(Array.from({ length: 64 }, (_, i) => i % spec.classes), 'int32'), spec.classes));
  const forwardOnce = async () => {
    const y = model.predict(xf) as tf.Tensor;
    await y.data();
    y.dispose();
  };
  const trainOnce = async () => {
    const loss = optimizer.minimize(() => {
      const logits = model.apply(xb, { training: true }) as tf.Tensor;
      const ce = tf.losses.softmaxCrossEntropy(yb, logits);
      // weight decay 5e-4 as in train_ref.py (SGD's weight_decay adds wd·w to the gradient)
      return tf.add(ce, tf.mul(2.5e-4, tf.addN(weights.map((w) => tf.sum(tf.square(w))))));
    }, true);
    await loss!.data();
    loss!.dispose();
  };
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
  optimizer.dispose();
  model.dispose();
  return { forward: forward.rate, train: train.rate, stepMs: train.ms, forwardMs: fwd64.ms };
}

async function main(): Promise<void> {
  const requested = (process.argv[2] ?? 'auto') as BackendChoice;
  if (requested !== 'auto' && !(BACKEND_NAMES as readonly string[]).includes(requested)) throw new Error(`unknown backend ${requested}`);
  const info = await selectBackend(requested);
  process.stderr.write(`backend ${info.backend}${info.wasmThreads ? `, ${info.wasmThreads} threads` : ''}; ${RUNS} timed runs each\n`);
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
  process.stdout.write(`pul backend: ${info.backend}${info.wasmThreads ? ` (${info.wasmThreads} threads, SIMD ${info.wasmSimd ? 'on' : 'off'})` : ''}; PyTorch: ${peer.source}\n`);
  process.stdout.write(`${table(['net', 'fwd img/s', 'torch fwd', 'ratio', 'train img/s', 'torch train', 'ratio', 'backward/forward'], rows)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
