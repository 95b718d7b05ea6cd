/**
 * Every registered metric loss trains through `pul train --loss NAME`: a few P×K steps on the tiny IDX
 * fixture, a finite loss, the loss recorded in the checkpoint, activeShare logged exactly for the
 * mining losses (their LossValue has one), and no tensor left behind between epochs.
 */
import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { runCli } from '../helpers/run-cli.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { writePulFixture } from '../pipeline/pul-fixture.js';

interface EpochLine {
  loss: number;
  activeShare: number | null;
  activeShares: number[];
  tensors: number;
}

/** name → whether its value carries activeShare (the pair/triplet mining losses do). */
const LOSSES: Record<string, boolean> = {
  contrastive: true,
  'triplet-hard': true,
  'triplet-soft': true,
  'triplet-all': true,
  'triplet-weighted': true,
  'triplet-random': true,
  lifted: true,
  npair: false,
  global: false,
  center: false,
};

describe('pul train --loss NAME, for each metric loss', () => {
  it('trains two short epochs with a finite loss, logs activeShare for the mining losses only, leaks no tensor', async () => {
    await withTempDir(async (root) => {
      const data = path.join(root, 'data');
      await mkdir(data);
      await writePulFixture(data); // 4 identities × 40 images of 12×12
      for (const [name, mining] of Object.entries(LOSSES)) {
        const out = path.join(root, name);
        const r = await runCli([
          ...['--backend', 'wasm', 'train', '--data', data, '--format', 'idx', '--model', 'fmnist', '--input', '12x12x1', '--embedding-dim', '16'],
          ...['--lr', '0.01', '--epochs', '2', '--pk', '4,4', '--batch', '16', '--out', out, '--loss', name],
        ]);
        assert.equal(r.code, 0, `${name}: ${r.stderr}`);
        const lines = (await readFile(path.join(out, 'metrics.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as EpochLine);
        assert.equal(lines.length, 2, name);
        for (const l of lines) {
          // a hinge may be met by the untrained net on these easy identities (loss 0, then activeShare 0 too)
          assert.ok(Number.isFinite(l.loss) && l.loss >= 0, `${name}: loss ${l.loss}`);
          if (mining) {
            assert.ok(l.activeShare !== null && l.activeShare >= 0 && l.activeShare <= 1, `${name}: activeShare ${l.activeShare}`);
            assert.equal(l.activeShare === 0, l.loss === 0, `${name}: loss ${l.loss} with activeShare ${l.activeShare}`);
            assert.ok(l.activeShares.length > 0 && l.activeShares.every((s) => s >= 0 && s <= 1), `${name}: activeShares ${l.activeShares.join()}`);
          } else {
            assert.equal(l.activeShare, null, name);
          }
        }
        console.log(`${name}: ${lines.map((l) => `loss ${l.loss.toFixed(4)} activeShare ${l.activeShare?.toFixed(3) ?? '–'}`).join(' → ')}`);
        assert.equal(lines[1]!.tensors, lines[0]!.tensors, `${name}: tensors after epoch 1 and 2`);
        const meta = JSON.parse(await readFile(path.join(out, 'epoch-002', 'meta.json'), 'utf8')) as { training: { loss: string } };
        assert.equal(meta.training.loss, name);
      }
    });
  });
});
