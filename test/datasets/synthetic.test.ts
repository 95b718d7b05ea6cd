import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ImageReader, ensureSyntheticReid, generateSyntheticReid, loadDataset, samplesOf, summarizeDataset } from '../../src/index.js';
import { syntheticReidCounts } from '../../src/datasets/synthetic-reid.js';
import { withTempDir } from '../helpers/temp-dir.js';

const small = { ids: 4, cams: 3, perCam: 2, galleryPerCam: 1, height: 64, width: 32 } as const;

describe('synthetic re-ID generator', () => {
  it('writes Market-1501 source and target sets with disjoint identities', () => {
    return withTempDir(async (dir) => {
      const report = await generateSyntheticReid({ out: path.join(dir, 'demo'), seed: 3, ...small });
      const source = await loadDataset(report.domains.source.root);
      const target = await loadDataset(report.domains.target.root);
      assert.equal(source.format, 'market1501');
      assert.equal(samplesOf(source, 'train').length, report.domains.source.train);
      const ids = (ds: typeof source) => new Set(ds.samples.map((s) => s.pid));
      assert.equal(ids(source).size, 8);
      assert.ok([...ids(source)].every((p) => !ids(target).has(p)), 'domains share no identity');
      const trainIds = new Set(samplesOf(source, 'train').map((s) => s.pid));
      assert.ok(samplesOf(source, 'query').every((s) => !trainIds.has(s.pid)), 'test identities are not trained on');
      const summary = await summarizeDataset(source);
      assert.deepEqual(summary.warnings, [], 'every query has a gallery match in another camera');
      assert.deepEqual(summary.sizes.map((s) => [s.width, s.height, s.channels]), [[32, 64, 3]]);
      assert.match(path.basename(source.samples[0]!.path), /^\d{4}_c\ds1_\d{6}_\d{2}\.jpg$/);
      await readFile(report.contactSheet);
      await assert.rejects(loadDataset(path.join(dir, 'demo')), /it holds: contact-sheet\.png, source, target; did you mean .*demo\/source or .*demo\/target\?/);
      // the sizes are known from the parameters alone (pul run checks K before generating)
      const counts = syntheticReidCounts({ seed: 3, ...small });
      assert.deepEqual(counts, { source: { train: report.domains.source.train, query: report.domains.source.query, gallery: report.domains.source.gallery }, target: { train: report.domains.target.train, query: report.domains.target.query, gallery: report.domains.target.gallery } });
      assert.notDeepEqual(syntheticReidCounts({ seed: 4, ...small }), counts);
      const again = await ensureSyntheticReid({ out: path.join(dir, 'demo'), seed: 3, ...small });
      assert.deepEqual(again, { source: report.domains.source.root, target: report.domains.target.root, generated: false });
      const fresh = await ensureSyntheticReid({ out: path.join(dir, 'other'), seed: 3, ...small });
      assert.equal(fresh.generated, true);
    });
  });

  it('is deterministic under a seed and changes with it', () => {
    return withTempDir(async (dir) => {
      const files = async (out: string): Promise<Buffer[]> => {
        const d = path.join(out, 'target', 'bounding_box_train');
        return Promise.all((await readdir(d)).sort().slice(0, 5).map((n) => readFile(path.join(d, n))));
      };
      await generateSyntheticReid({ out: path.join(dir, 'a'), seed: 9, ...small });
      await generateSyntheticReid({ out: path.join(dir, 'b'), seed: 9, ...small });
      await generateSyntheticReid({ out: path.join(dir, 'c'), seed: 10, ...small });
      assert.deepEqual(await files(path.join(dir, 'a')), await files(path.join(dir, 'b')));
      assert.notDeepEqual(await files(path.join(dir, 'a')), await files(path.join(dir, 'c')));
    });
  });

  it('draws identities that differ more from each other than from themselves', () => {
    return withTempDir(async (dir) => {
      const report = await generateSyntheticReid({ out: path.join(dir, 'demo'), seed: 1, ...small, ids: 6, perCam: 3 });
      const ds = await loadDataset(report.domains.source.root);
      const reader = new ImageReader();
      // mean colour of the person's middle (the torso and legs region) per image
      const byPid = new Map<number, number[][]>();
      for (const s of samplesOf(ds, 'train')) {
        const px = await reader.readBytes(s.path, { height: 64, width: 32, channels: 3 });
        const mean = [0, 0, 0];
        let n = 0;
        for (let y = 16; y < 56; y++) for (let x = 12; x < 20; x++, n++) for (let k = 0; k < 3; k++) mean[k]! += px[(y * 32 + x) * 3 + k]!;
        const list = byPid.get(s.pid ?? -1) ?? [];
        list.push(mean.map((v) => v / n));
        byPid.set(s.pid ?? -1, list);
      }
      const dist = (a: number[], b: number[]): number => Math.hypot(...a.map((v, k) => v - b[k]!));
      const centre = (l: number[][]): number[] => [0, 1, 2].map((k) => l.reduce((a, v) => a + v[k]!, 0) / l.length);
      const centres = [...byPid.values()].map(centre);
      let within = 0;
      let wn = 0;
      for (const [i, l] of [...byPid.values()].entries()) for (const v of l) {
          within += dist(v, centres[i]!);
          wn++;
        }
      let between = 0;
      let bn = 0;
      for (let i = 0; i < centres.length; i++) for (let j = i + 1; j < centres.length; j++) {
          between += dist(centres[i]!, centres[j]!);
          bn++;
        }
      assert.ok(between / bn > 1.5 * (within / wn), `between-identity ${between / bn} vs within ${within / wn}`);
    });
  });
});
