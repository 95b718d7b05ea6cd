/**
 * The stop rule on the pipeline's real cluster and select stages (default selection: nearest-sample
 * anchors, any scope, λ 0.85; default stop.minChange 1 %), with the model stages replaced by features
 * written per round: every sample is selected every round, only the k-means partition changes. The
 * run must go on while the pseudo-labels change and end once they settle.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { describe, it } from 'node:test';
import { featureMatrix, formatPulSummary, parseConfig, Rng, silentProgress, summarizePulRun, writeFeatureFolder } from '../../src/index.js';
import { PulSession } from '../../src/pipeline/pul-session.js';
import { runStages, type Stage } from '../../src/pipeline/run-stages.js';
import { clusterStage, selectStage } from '../../src/pipeline/round-stages.js';
import { useBackend } from '../helpers/for-each-backend.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { fixtureConfig, writePulFixture } from './pul-fixture.js';

const N = 80; // the fixture's target training images
// the two-cluster partition of each round's features: new, new, new, round 3's renamed, round 3's again
const PARTITIONS: ReadonlyArray<(i: number) => number> = [(i) => i % 2, (i) => (i < N / 2 ? 0 : 1), (i) => (i % 4 < 2 ? 0 : 1), (i) => (i % 4 < 2 ? 1 : 0), (i) => (i % 4 < 2 ? 0 : 1)];

/** Writes round r's features: one-hot of the round's partition (4-d) plus small seeded noise. */
function featureStage(session: PulSession): Stage {
  return {
    name: 'extract',
    async run({ round }) {
      const target = (await session.data()).target;
      const part = PARTITIONS[round - 1]!;
      const rng = new Rng(round);
      const x = featureMatrix(N, 4);
      for (let i = 0; i < N; i++) {
        for (let t = 0; t < 4; t++) x.data[i * 4 + t] = (t === part(i) ? 1 : 0) + 0.05 * rng.next();
      }
      await writeFeatureFolder(path.join(session.roundDir(round), 'features'), { features: x, index: target.map((s) => ({ path: s.path, pid: s.pid, camid: s.camid })) });
      return { summary: {} };
    },
  };
}

async function runRounds(root: string, stop: Record<string, number>, trained: number[]) {
  const config = parseConfig({ ...fixtureConfig(root, path.join(root, 'runs')), clustering: { k: 2, restarts: 2 }, stop }, 'test');
  assert.deepEqual([config.selection.scope, config.selection.lambda], ['any', { schedule: 'constant', value: 0.85 }]);
  const session = new PulSession(path.join(root, 'runs', Object.entries(stop).flat().join('-')), config);
  const train: Stage = {
    name: 'train',
    run: ({ round }) => {
      trained.push(round);
      return Promise.resolve({ summary: {} });
    },
  };
  const plan = { setup: [], round: [featureStage(session), clusterStage(session), selectStage(session), train], maxRounds: config.stop.maxRounds };
  return summarizePulRun(await runStages(session.runDir, plan, { config, progress: silentProgress }));
}

describe('stop rule in the pipeline (everything selected, pseudo-labels changing)', () => {
  it('goes on past round 2 while the labels change and stops when they settle', async () => {
    await useBackend('cpu');
    await withTempDir(async (root) => {
      await writePulFixture(root);
      const trained: number[] = [];
      const s = await runRounds(root, { maxRounds: 5 }, trained); // default minChange 0.01, minRounds 1
      assert.deepEqual(trained, [1, 2, 3]);
      assert.deepEqual(s.rounds.map((r) => r.selected), [N, N, N, N]);
      // rounds 2 and 3: the selected set is the same (what the old index-set rule saw) but the labels
      // changed — ARI of i%2 vs i<40 and of i<40 vs (i%4<2) is 0 by hand (every cell of the table holds 20)
      for (const r of s.rounds.slice(1, 3)) {
        assert.deepEqual([r.entered, r.left], [0, 0]);
        assert.ok(r.ari !== undefined && Math.abs(r.ari) < 0.05 && r.change === 1, `round ${r.round}: ARI ${r.ari}, change ${r.change}`);
      }
      // round 4: round 3's partition with the cluster ids swapped → no change
      assert.deepEqual([s.rounds[3]!.entered, s.rounds[3]!.left, s.rounds[3]!.ari, s.rounds[3]!.change], [0, 0, 1, 0]);
      assert.match(s.finished ?? '', /^the pseudo-labelled selection changed by 0\.00 % \(\+0 −0, 80 kept, label ARI 1\.0000\) < 1\.00 % \(stop\.minChange\)$/);
      assert.match(formatPulSummary(s), /\| 4 .*\| 0\.00 % \(\+0 −0, ARI 1\.000\) +\|/);

      // at least 4 rounds trained before the rule may stop: round 4's settled labels no longer end the run
      const more: number[] = [];
      const late = await runRounds(root, { maxRounds: 5, minRounds: 4 }, more);
      assert.deepEqual(more, [1, 2, 3, 4]);
      assert.match(late.finished ?? '', /changed by 0\.00 %/);
      // minChange 0: never settles, runs maxRounds (the authors' code)
      const all: number[] = [];
      assert.equal((await runRounds(root, { maxRounds: 5, minChange: 0 }, all)).finished, '5 rounds done');
      assert.deepEqual(all, [1, 2, 3, 4, 5]);
    });
  });
});
