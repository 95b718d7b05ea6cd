/**
 * applyGradientsWithDecay (src/training/optimizer.ts): pul's one-kernel SGD-momentum step with weight
 * decay leaves the variables and the momentum accumulators with exactly tfjs's bits (g + w·wd, then
 * MomentumOptimizer.applyGradients), under the same state names.
 */
import assert from 'node:assert/strict';
import type { NamedTensorMap } from '@tensorflow/tfjs';
import { test } from 'node:test';
import { Rng, selectBackend, tf } from '../../src/index.js';
import { applyGradientsWithDecay } from '../../src/training/optimizer.js';

const SHAPES = [[3, 3, 2, 8], [8], [5, 7]];

test('the fused SGD-momentum update gives tfjs’s bits, with and without weight decay', async () => {
  await selectBackend('wasm');
  const before = tf.memory().numTensors;
  for (const wd of [0, 5e-4]) {
    const rng = new Rng(3);
    const init = SHAPES.map((s) => Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.normal()));
    const make = (tag: string) => tf.tidy(() => init.map((v, i) => tf.variable(tf.tensor(v, SHAPES[i]), true, `sgd-test-${wd}-${tag}-${i}`)));
    const [fused, reference] = [make('fused'), make('reference')];
    const [optFused, optReference] = [tf.train.momentum(0.05, 0.9), tf.train.momentum(0.05, 0.9)];
    let profiled: string[] = [];
    for (let step = 0; step < 3; step++) {
      const g = SHAPES.map((s) => tf.tensor(Float32Array.from({ length: s.reduce((a, b) => a * b, 1) }, () => rng.normal()), s));
      // the second variable gets no gradient (as a weight the loss does not reach)
      const pick = (vars: tf.Variable[]): NamedTensorMap => Object.fromEntries(vars.flatMap((v, i) => (i === 1 ? [] : [[v.name, g[i]!]])));
      profiled = (await tf.profile(() => applyGradientsWithDecay(optFused, pick(fused), wd))).kernels.map((k) => k.name);
      const decayed = tf.tidy(() => Object.fromEntries(Object.entries(pick(reference)).map(([name, t]) => [name, wd > 0 ? tf.add(t, tf.mul(tf.engine().registeredVariables[name]!, wd)) : tf.clone(t)])));
      optReference.applyGradients(decayed as unknown as Parameters<typeof optReference.applyGradients>[0]);
      tf.dispose([...g, ...Object.values(decayed)]);
    }
    assert.ok(profiled.includes('PulSgdMomentum') && !profiled.includes('Multiply'), `kernels run: ${profiled.join(', ')}`);
    for (let i = 0; i < SHAPES.length; i++) assert.deepEqual(await fused[i]!.data(), await reference[i]!.data(), `wd ${wd}: variable ${i}`);
    const [stateF, stateR] = [await optFused.getWeights(), await optReference.getWeights()];
    assert.deepEqual(stateF.map((s) => s.name.replace('fused', '')), stateR.map((s) => s.name.replace('reference', '')));
    for (let i = 0; i < stateF.length; i++) assert.deepEqual(await stateF[i]!.tensor.data(), await stateR[i]!.tensor.data(), `wd ${wd}: state ${stateF[i]!.name}`);
    tf.dispose([stateF[0]!.tensor, stateR[0]!.tensor, ...fused, ...reference]);
    for (const o of [optFused, optReference]) {
      o.dispose();
      (o as unknown as { c: tf.Tensor }).c.dispose();
    }
  }
  assert.equal(tf.memory().numTensors, before, 'no tensor leaks');
});
