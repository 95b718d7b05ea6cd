import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isPulError } from '../../src/index.js';
import { defaultControllerOptions, updateController, validateController, type ControllerState } from '../../src/mining/controller.js';

describe('smart-mining adaptive controller', () => {
  it('follows the hand-computed trajectory for a sequence of active shares, within its bounds', () => {
    // 64 steps per epoch → interval in [8, 64]; k in [4, 256]; margin in [0.05, 2], γ = 1.25; band 0.4–0.6
    const opts = defaultControllerOptions(64);
    assert.deepEqual([opts.minInterval, opts.maxInterval], [8, 64]);
    const shares = [0.1, 0.2, 0.5, 0.45, 0.9, 0.95, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05, 0.05];
    const expected: ControllerState[] = [
      { neighbours: 64, margin: 0.375, interval: 32 }, // 0.1 < 0.4: harder
      { neighbours: 128, margin: 0.46875, interval: 16 },
      { neighbours: 128, margin: 0.46875, interval: 16 }, // in the band: held
      { neighbours: 128, margin: 0.46875, interval: 16 },
      { neighbours: 64, margin: 0.375, interval: 32 }, // 0.9 > 0.6: easier
      { neighbours: 32, margin: 0.3, interval: 64 },
      { neighbours: 64, margin: 0.375, interval: 32 },
      { neighbours: 128, margin: 0.46875, interval: 16 },
      { neighbours: 256, margin: 0.5859375, interval: 8 },
      { neighbours: 256, margin: 0.732421875, interval: 8 }, // k and interval at their bounds
      { neighbours: 256, margin: 0.91552734375, interval: 8 },
      { neighbours: 256, margin: 1.1444091796875, interval: 8 },
      { neighbours: 256, margin: 1.430511474609375, interval: 8 },
    ];
    let state: ControllerState = { neighbours: 32, margin: 0.3, interval: 64 };
    shares.forEach((s, i) => {
      state = updateController(state, s, opts);
      assert.deepEqual(state, expected[i], `after share #${i} = ${s}`);
    });
    for (let i = 0; i < 3; i++) state = updateController(state, 0, opts);
    assert.deepEqual(state, { neighbours: 256, margin: 2, interval: 8 }); // margin capped at 2
    for (let i = 0; i < 20; i++) state = updateController(state, 1, opts);
    assert.deepEqual(state, { neighbours: 4, margin: 0.05, interval: 64 }); // every lower/upper bound
  });

  it('rejects shares outside [0, 1] and bad bounds by name', () => {
    const opts = defaultControllerOptions(10);
    const state = { neighbours: 8, margin: 0.3, interval: 10 };
    assert.throws(() => updateController(state, 1.5, opts), (e: unknown) => isPulError(e) && /active share 1.5/.test(e.message));
    assert.throws(() => updateController(state, Number.NaN, opts), (e: unknown) => isPulError(e) && e.code === 'option.outOfRange');
    assert.throws(() => validateController({ ...opts, target: 1 }, state), (e: unknown) => isPulError(e) && e.where?.option === 'mining.target');
    assert.throws(() => validateController({ ...opts, marginFactor: 1 }, state), (e: unknown) => isPulError(e) && e.where?.option === 'mining.marginFactor');
    assert.throws(() => validateController(opts, { ...state, neighbours: 300 }), (e: unknown) => isPulError(e) && /k=300/.test(e.message));
    assert.throws(() => validateController(opts, { ...state, interval: 11 }), (e: unknown) => isPulError(e) && /interval 11/.test(e.message));
    validateController(opts, state);
  });
});
