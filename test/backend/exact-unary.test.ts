/**
 * Floor and Neg of float32 tensors on the wasm backend (pul's loop, src/backend/kernels/exact-unary.ts)
 * give the cpu backend's bits, and dropout with a seed keeps the same mask.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Rng, tf } from '../../src/index.js';
import { cpuThenWasm } from '../helpers/for-each-backend.js';

test('Floor, Neg and seeded dropout give the cpu backend bits on wasm, without leaking tensors', async () => {
  const rng = new Rng(5);
  const special = [0, -0, 0.5, -0.5, 1, -1, 2.999999, -2.000001, 1e30, -1e30, 16777217, Infinity, -Infinity];
  const values = Float32Array.from([...special, ...Array.from({ length: 7995 }, () => rng.normal() * 10)]);
  const run = async () => {
    const x = tf.tensor2d(values, [values.length / 13, 13]);
    const s = tf.scalar(-3.5);
    const ints = tf.tensor1d([3, -4], 'int32');
    const outs = [tf.floor(x), tf.neg(x), tf.dropout(x, 0.5, undefined, 17), tf.floor(s), tf.neg(ints)];
    const data = await Promise.all(outs.map(async (o) => Array.from(await o.data())));
    tf.dispose([x, s, ints, ...outs]);
    return data;
  };
  const { ref, got, leaked } = await cpuThenWasm(run);
  assert.equal(leaked, 0);
  assert.deepEqual(got, ref);
  assert.deepEqual(ref[3], [-4]);
  assert.ok(Object.is(got[1]![0], -0) && Object.is(got[0]![1], -0), 'floor(−0) and −0 keep their sign');
});
