import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { buildModel, defaultControllerOptions, disposeModel, updateController, ImageReader, isPulError, MODEL_PRESETS, Rng, selectBackend, smartMiningBatchSource, tf, Trainer, type ModelSpec, type Sample, type TrainBatch } from '../../src/index.js';
import { encodeIdx } from '../../src/datasets/idx-file.js';
import { withTempDir } from '../helpers/temp-dir.js';

const S = 8;
const SPEC: ModelSpec = { ...MODEL_PRESETS.fmnist, input: { height: S, width: S, channels: 1 }, classes: 4 };

/** `n` 8×8 IDX images of 4 classes (class c bright in quadrant c, plus seeded noise) as samples. */
async function writeSet(dir: string, n: number): Promise<{ samples: Sample[]; labels: Int32Array }> {
  const rng = new Rng(5);
  const px = new Uint8Array(n * S * S);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % 4;
    labels[i] = c;
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const inside = (y < S / 2 ? 0 : 2) + (x < S / 2 ? 0 : 1) === c;
        px[i * S * S + y * S + x] = Math.max(0, Math.min(255, Math.round((inside ? 180 : 40) + 40 * rng.normal())));
      }
    }
  }
  const file = path.join(dir, 'train-images-idx3-ubyte');
  await writeFile(file, encodeIdx([n, S, S], px));
  return { samples: Array.from({ length: n }, (_, i) => ({ path: `${file}#${i}`, pid: labels[i]!, camid: 0, split: 'train' as const })), labels };
}

async function collect(iter: AsyncIterable<TrainBatch> | Iterable<TrainBatch>): Promise<TrainBatch[]> {
  const out: TrainBatch[] = [];
  for await (const b of iter) out.push(b);
  return out;
}

describe('smart-mining batch source', () => {
  it('yields groups (anchor, positive, negative, negative’s positive), adapts to observed shares, resumes from its state, leaks no tensor', async () => {
    await selectBackend('wasm');
    await withTempDir(async (dir) => {
      const { samples, labels } = await writeSet(dir, 48);
      const model = await buildModel(SPEC, new Rng(1));
      const reader = new ImageReader();
      const opts = { ...SPEC.input, batchSize: 16, seed: 3, reader, neighbours: 8, signal: 'trainer' as const };
      try {
        const source = smartMiningBatchSource(model, samples, labels, opts);
        assert.equal(source.stepsPerEpoch, 3);
        const before = tf.memory().numTensors;
        const epoch0 = await collect(source.batches(0));
        assert.equal(tf.memory().numTensors, before, 'the embedding pass disposes its tensors');
        assert.equal(epoch0.length, 3);
        for (const b of epoch0) {
          assert.deepEqual(b.shape, [16, S, S, 1]);
          for (let g = 0; g < 16; g += 4) {
            assert.equal(b.labels[g], b.labels[g + 1], 'anchor and positive share a class');
            assert.equal(b.labels[g + 2], b.labels[g + 3], 'negative and its positive share a class');
            assert.notEqual(b.labels[g], b.labels[g + 2], 'the negative is of another class');
          }
        }
        // nothing observed yet: the fresh table's own share of triplets inside the margin steers the controller
        const copts = defaultControllerOptions(3);
        const first = source.refreshes[0]!;
        assert.equal(first.shareFrom, 'table');
        assert.equal(first.share, first.stats.activeShare);
        assert.equal(first.method, 'exact');
        assert.equal(first.stats.anchors, 48);
        const after0 = updateController({ neighbours: 8, margin: 0.3, interval: 3 }, first.stats.activeShare, copts);
        assert.deepEqual([first.margin, first.interval], [after0.margin, after0.interval]);
        assert.equal(epoch0[0]!.margin, first.margin);
        assert.deepEqual(source.refreshes.map((r) => r.step), after0.interval === 3 ? [0] : [0, 2]);

        // the trainer reports that every triplet gave zero loss: the controller mines harder at the next refresh
        const refreshes0 = source.refreshes.length;
        // (per-row loss terms: 0 = inactive row; a share of 0 on each of 3 steps)
        for (const b of epoch0) source.feedback(b, new Float32Array(16));
        source.feedback(epoch0[0]!, new Float32Array(0)); // a loss without per-row terms: ignored
        const pending = source.controllerState;
        assert.deepEqual({ sum: pending.shareSum, count: pending.shareCount }, { sum: 0, count: 3 });
        const saved = source.state();
        // what the checkpoint keeps: float32 words that give back the float64 margin exactly
        const roundTrip = smartMiningBatchSource(model, samples, labels, opts);
        roundTrip.restore(Float32Array.from(saved));
        assert.deepEqual(roundTrip.controllerState, pending);
        const epoch1 = await collect(source.batches(1));
        const second = source.refreshes[refreshes0]!;
        assert.equal(second.shareFrom, 'trainer');
        assert.equal(second.share, 0);
        const harder = updateController(pending.controller, 0, copts);
        assert.deepEqual([second.neighbours, second.margin, second.interval], [Math.min(harder.neighbours, 47), harder.margin, harder.interval]);
        assert.ok(harder.margin > pending.controller.margin && harder.interval <= pending.controller.interval);
        assert.ok(epoch1.every((b) => b.margin === harder.margin || source.refreshes.slice(refreshes0 + 1).some((r) => r.margin === b.margin)));

        // a new source resumed from the state saved after epoch 0 repeats epoch 1 exactly
        const resumed = smartMiningBatchSource(model, samples, labels, opts);
        resumed.restore(saved);
        const again = await collect(resumed.batches(1));
        assert.equal(again.length, epoch1.length);
        for (let i = 0; i < again.length; i++) {
          assert.deepEqual(again[i]!.labels, epoch1[i]!.labels);
          assert.deepEqual(again[i]!.pixels, epoch1[i]!.pixels);
          assert.equal(again[i]!.margin, epoch1[i]!.margin);
        }
        // the default signal is the table's share: what the trainer reports does not steer
        const byTable = smartMiningBatchSource(model, samples, labels, { ...opts, signal: 'table' });
        byTable.restore(saved);
        await collect(byTable.batches(1));
        assert.equal(byTable.refreshes[0]!.shareFrom, 'table');
        assert.equal(byTable.refreshes[0]!.share, byTable.refreshes[0]!.stats.activeShare);
        // a fixed controller keeps its parameters whatever it observes
        const fixed = smartMiningBatchSource(model, samples, labels, { ...opts, controller: false, margin: 0.2 });
        await collect(fixed.batches(0));
        fixed.feedback(epoch0[0]!, new Float32Array(16));
        await collect(fixed.batches(1));
        assert.deepEqual(fixed.refreshes.map((r) => [r.neighbours, r.margin, r.interval]), [[8, 0.2, 3], [8, 0.2, 3]]);
      } finally {
        disposeModel(model);
      }
    });
  });

  it('trains with the Trainer: the embedding pass runs in inference mode between steps, no tensor left behind', async () => {
    await selectBackend('wasm');
    await withTempDir(async (dir) => {
      const { samples, labels } = await writeSet(dir, 32);
      const model = await buildModel(SPEC, new Rng(2));
      const trainer = new Trainer(model, { epochs: 2, optimizer: { type: 'sgd', lr: 0.01, momentum: 0.9 }, seed: 1 });
      try {
        const source = smartMiningBatchSource(model, samples, labels, { ...SPEC.input, batchSize: 8, seed: 1, reader: new ImageReader(), interval: 2, index: { exactMaxRows: 16 } });
        await trainer.runEpoch(source);
        const tensors = tf.memory().numTensors;
        const record = await trainer.runEpoch(source);
        assert.equal(tf.memory().numTensors, tensors);
        assert.equal(record.steps, 4);
        assert.ok(Number.isFinite(record.loss));
        assert.ok(source.refreshes.every((r) => r.method === 'hnsw')); // 32 rows > exactMaxRows 16
        // refreshes at every epoch start, then every `interval` steps as the controller set it
        for (const e of [0, 1]) {
          const inEpoch = source.refreshes.filter((r) => r.epoch === e);
          assert.equal(inEpoch[0]!.step, 0);
          for (let i = 1; i < inEpoch.length; i++) assert.equal(inEpoch[i]!.step, inEpoch[i - 1]!.step + inEpoch[i - 1]!.interval);
        }
      } finally {
        trainer.dispose();
        disposeModel(model);
      }
    });
  });

  it('refuses bad settings by name', async () => {
    await withTempDir(async (dir) => {
      const { samples, labels } = await writeSet(dir, 16);
      const model = await buildModel(SPEC, new Rng(1));
      try {
        const base = { ...SPEC.input, batchSize: 8, seed: 0 };
        assert.throws(() => smartMiningBatchSource(model, samples, labels, { ...base, batchSize: 6 }), (e: unknown) => isPulError(e) && /multiple of 4/.test(e.message) && e.where?.option === 'training.batchSize');
        assert.throws(() => smartMiningBatchSource(model, samples, labels, { ...base, batchSize: 32 }), (e: unknown) => isPulError(e) && e.code === 'dataset.empty');
        const ok = smartMiningBatchSource(model, samples, labels, base);
        assert.throws(() => ok.restore(new Float32Array(3)), (e: unknown) => isPulError(e) && e.code === 'checkpoint.mismatch' && /not a smart-mining state/.test(e.message));
        const tooBig = smartMiningBatchSource(model, samples, labels, { ...base, controller: false, neighbours: 1000 }).state();
        assert.throws(() => ok.restore(tooBig), (e: unknown) => isPulError(e) && e.code === 'checkpoint.mismatch' && /k=1000/.test(e.message));
        assert.throws(() => smartMiningBatchSource(model, samples, labels, { ...base, neighbours: 1000 }), (e: unknown) => isPulError(e) && /k=1000/.test(e.message));
        assert.throws(() => smartMiningBatchSource(model, samples, labels.subarray(1), base), (e: unknown) => isPulError(e) && /15 labels for 16 samples/.test(e.message));
      } finally {
        disposeModel(model);
      }
    });
  });
});
