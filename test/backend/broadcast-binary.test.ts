/**
 * Broadcasting Add/Sub/Multiply/RealDiv of small float32 tensors on the wasm backend (pul's loop,
 * src/backend/kernels/broadcast-binary.ts) give the cpu backend's bits, whichever operand broadcasts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng, tf } from '../../src/index.js';
import { cpuThenWasm } from '../helpers/for-each-backend.js';

const PAIRS: [number[], number[]][] = [
  [[64, 10], [64, 1]], // softmax cross-entropy: logits − logsumexp
  [[64, 1], [64, 10]],
  [[3, 1, 5], [1, 4, 1]],
  [[5], [2, 1, 5]],
  [[1], [7, 3]],
  [[], [4]],
  [[2, 3, 1, 4], [3, 5, 1]],
];
const OPS = ['add', 'sub', 'mul', 'div'] as const;

test('broadcasting element-wise ops of small tensors give the cpu backend bits on wasm', async () => {
  const rng = new Rng(11);
  const values = PAIRS.map(([a, b]) => [a, b].map((s) => Float32Array.from({ length: s.reduce((p, q) => p * q, 1) }, () => rng.normal())));
  const run = async () => {
    const out: Float32Array[] = [];
    for (const [i, [sa, sb]] of PAIRS.entries()) {
      const a = tf.tensor(values[i]![0]!, sa);
      const b = tf.tensor(values[i]![1]!, sb);
      for (const op of OPS) {
        const c = tf[op](a, b);
        out.push((await c.data()) as Float32Array);
        c.dispose();
      }
      tf.dispose([a, b]);
    }
    return out;
  };
  const { ref, got, leaked } = await cpuThenWasm(run);
  assert.equal(leaked, 0);
  got.forEach((g, i) => assert.deepEqual(g, ref[i], `${PAIRS[Math.floor(i / OPS.length)]!.map((s) => `[${s.join(',')}]`).join(' ')} ${OPS[i % OPS.length]}`));
});
