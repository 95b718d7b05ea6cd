import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AUTHORS_LAMBDA, PulError, lambdaAt, selectionChange, shouldStop } from '../../src/index.js';

test('λ schedules: constant (authors: 0.85) and growing start + step·round capped at max', () => {
  assert.deepEqual([0, 1, 24].map((r) => lambdaAt(AUTHORS_LAMBDA, r)), [0.85, 0.85, 0.85]);
  const growing = { kind: 'growing', start: 0.6, step: 0.05, max: 0.8 } as const;
  const got = [0, 1, 2, 3, 4, 5, 9].map((r) => lambdaAt(growing, r));
  [0.6, 0.65, 0.7, 0.75, 0.8, 0.8, 0.8].forEach((v, i) => assert.ok(Math.abs(got[i]! - v) < 1e-12, `round ${i}: ${got[i]}`));
  assert.equal(lambdaAt({ kind: 'growing', start: 0.9, step: -0.1, max: 0.75 }, 3), 0.75);
  assert.throws(() => lambdaAt({ kind: 'growing', start: 1.2, step: 0.1, max: 1 }, 0), (e: unknown) => e instanceof PulError && e.where?.option === 'lambda.start');
  assert.throws(() => lambdaAt({ kind: 'constant', value: -1.5 }, 0), (e: unknown) => e instanceof PulError && /λ=-1.5 is outside/.test(e.message));
  assert.throws(() => lambdaAt(AUTHORS_LAMBDA, -1), PulError);
});

test('stop rule: |S_t Δ S_t-1| / |S_t-1| < ε (strict), else max rounds', () => {
  assert.equal(selectionChange([1, 2, 3, 4], [1, 2, 3, 5]), 0.5);
  assert.equal(selectionChange([], []), 0);
  assert.equal(selectionChange([], [1]), Infinity);
  const hundred = Array.from({ length: 100 }, (_, i) => i);
  assert.deepEqual(shouldStop({ maxRounds: 25 }, 1, null, hundred), { stop: false, reason: null, change: Infinity });
  assert.deepEqual(shouldStop({ maxRounds: 25 }, 2, hundred, [...hundred, 100]), { stop: false, reason: null, change: 0.01 }); // 1 % is not < 1 %
  const twoHundred = Array.from({ length: 200 }, (_, i) => i);
  assert.deepEqual(shouldStop({ maxRounds: 25 }, 2, twoHundred, [...twoHundred, 200]), { stop: true, reason: 'stable', change: 0.005 });
  assert.deepEqual(shouldStop({ maxRounds: 3, epsilon: 0.1 }, 3, [1, 2], [3]), { stop: true, reason: 'maxRounds', change: 1.5 });
  assert.throws(() => shouldStop({ maxRounds: 0 }, 1, null, []), (e: unknown) => e instanceof PulError && e.where?.option === 'stop.maxRounds');
  assert.throws(() => shouldStop({ maxRounds: 2, epsilon: -1 }, 1, null, []), (e: unknown) => e instanceof PulError && e.where?.option === 'stop.epsilon');
});
