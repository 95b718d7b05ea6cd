/**
 * Failures a user can cause are one PulError line with a code, naming what they typed (the flag, or
 * the config file and key) and the exit code of its family. Each case of issue 14.9 checks its message.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Rng, featureMatrix, writeFeatureFolder } from '../../src/index.js';
import { encodeIdx } from '../../src/datasets/idx-file.js';
import { runCli } from '../helpers/run-cli.js';
import { withTempDir } from '../helpers/temp-dir.js';

/** `pul: error [code] (location): message` — the one line a PulError prints. */
const ERROR_LINE = /^pul: error \[([\w.]+)\](?: \(([^)]*)\))?: /;

function errorOf(stderr: string): { code: string; where: string; text: string } {
  const m = ERROR_LINE.exec(stderr);
  assert.ok(m, `not a PulError line: ${stderr}`);
  return { code: m[1]!, where: m[2] ?? '', text: stderr.slice(m[0].length) };
}

async function features(dir: string, rows: number, nanRow?: number): Promise<string> {
  const data = new Float32Array(rows * 2).map((_, i) => (i % 7) / 7);
  if (nanRow !== undefined) data[nanRow * 2 + 1] = Number.NaN;
  const out = path.join(dir, 'feats');
  await writeFeatureFolder(out, { features: featureMatrix(rows, 2, data), index: Array.from({ length: rows }, (_, i) => ({ path: `p${i}.jpg`, pid: i % 3, camid: 0 })) });
  return out;
}

describe('messages name what the user typed', () => {
  it('pul run --lambda -5 blames --lambda, not the demo configuration', async () => {
    const r = await runCli(['run', '--lambda', '-5']);
    assert.equal(r.code, 2);
    const e = errorOf(r.stderr);
    assert.equal(e.code, 'config.invalid');
    assert.equal(e.where, '--lambda');
    assert.match(e.text, /--lambda -5: .*>=-1/);
    assert.doesNotMatch(r.stderr, /demo\.json/);
  });

  it('pul run --loss / --sampler: an unknown name blames the flag and lists the known ones', async () => {
    const loss = await runCli(['run', '--loss', 'ce+tripplet']);
    assert.equal(loss.code, 2);
    assert.equal(errorOf(loss.stderr).where, '--loss');
    assert.match(loss.stderr, /unknown loss "tripplet".*triplet-hard/s);
    const sampler = await runCli(['run', '--sampler', 'nope']);
    assert.equal(sampler.code, 2);
    assert.equal(errorOf(sampler.stderr).where, '--sampler');
    assert.match(sampler.stderr, /loss-guided/);
  });

  it('a bad value in a config file names the file, the line of a JSON error, and the key', () =>
    withTempDir(async (dir) => {
      const file = path.join(dir, 'p.json');
      await writeFile(file, JSON.stringify({ data: { target: { path: 't' } }, clustering: { k: 0 } }, null, 2));
      const bad = await runCli(['run', '--config', file]);
      assert.equal(bad.code, 2);
      assert.equal(errorOf(bad.stderr).where, `${file}, clustering.k`);
      assert.match(bad.stderr, /clustering\.k = 0: /);
      await writeFile(file, '{\n  "data": {},\n  "clustering": { "k": 5,, }\n}\n');
      const json = await runCli(['run', '--config', file]);
      assert.equal(json.code, 2);
      const e = errorOf(json.stderr);
      assert.equal(e.where, `${file}, line 3`);
      assert.match(e.text, /not valid JSON: .* at line 3, column \d+/);
      assert.doesNotMatch(json.stderr, /position/);
    }));

  it('pul run without --k says that --k is needed', async () => {
    const r = await runCli(['run', '--source-checkpoint', 'S', '--target', 'T']);
    assert.equal(r.code, 2);
    const e = errorOf(r.stderr);
    assert.equal(e.where, '--k');
    assert.match(e.text, /--k is needed \(clustering\.k\)/);
    assert.doesNotMatch(r.stderr, /expected object/);
  });

  it('--k abc and --k "" are not whole numbers; K too large names --k', () =>
    withTempDir(async (dir) => {
      const feats = await features(dir, 12);
      const out = path.join(dir, 'clusters');
      for (const [value, shown] of [['abc', "'abc'"], ['', "''"]] as const) {
        const r = await runCli(['cluster', '--features', feats, '--k', value, '--out', out]);
        assert.equal(r.code, 2, r.stderr);
        const e = errorOf(r.stderr);
        assert.deepEqual([e.code, e.where], ['option.invalid', '--k']);
        assert.equal(e.text.trim(), `--k ${shown}: not a whole number`);
      }
      const big = await runCli(['cluster', '--features', feats, '--k', '13', '--out', out]);
      assert.equal(big.code, 2);
      assert.deepEqual(errorOf(big.stderr).where, '--k');
      assert.match(big.stderr, /K=13 exceeds the 12 rows/);
    }));

  it('a NaN feature is reported by its 0-based row, not as a line', () =>
    withTempDir(async (dir) => {
      const feats = await features(dir, 12, 4);
      const r = await runCli(['cluster', '--features', feats, '--k', '3', '--out', path.join(dir, 'c')]);
      assert.equal(r.code, 3);
      const e = errorOf(r.stderr);
      assert.equal(e.code, 'features.malformed');
      assert.match(e.where, /, row 4$/);
      assert.match(e.text, /row 4 \(0-based\) holds NaN/);
      assert.doesNotMatch(r.stderr, /line/);
    }));

  it('an unknown option is reported before a missing required one', async () => {
    const r = await runCli(['cluster', '--bogus']);
    assert.equal(r.code, 2);
    assert.equal(r.stderr.split('\n')[0], "pul: error [option.invalid]: unknown option '--bogus'");
    assert.doesNotMatch(r.stderr, /not specified|needed/);
    const missing = await runCli(['cluster', '--k', '3']);
    assert.equal(missing.code, 2);
    assert.deepEqual(errorOf(missing.stderr), { code: 'option.invalid', where: '--features', text: '--features, --out are needed (pul cluster --help)\n' });
  });

  it('--batch 0 is reported as --batch', () =>
    withTempDir(async (dir) => {
      const train = await runCli(['train', '--data', dir, '--out', path.join(dir, 'o'), '--batch', '0']);
      assert.equal(train.code, 2);
      assert.deepEqual(errorOf(train.stderr), { code: 'option.outOfRange', where: '--batch', text: '--batch 0: must be ≥ 2\n' });
      const extract = await runCli(['extract', '--checkpoint', dir, '--data', dir, '--out', path.join(dir, 'f'), '--batch', '0']);
      assert.equal(extract.code, 2);
      assert.equal(errorOf(extract.stderr).where, '--batch');
      assert.doesNotMatch(extract.stderr, /batchSize/);
    }));

  it("pul train's Ctrl-C stops with the command that resumes it", () =>
    withTempDir(async (root) => {
      const rng = new Rng(3);
      const n = 64;
      const px = Uint8Array.from({ length: n * 784 }, () => rng.int(256));
      const labels = Uint8Array.from({ length: n }, (_, i) => i % 2);
      const data = path.join(root, 'data');
      await mkdir(data);
      await writeFile(path.join(data, 'train-images-idx3-ubyte'), encodeIdx([n, 28, 28], px));
      await writeFile(path.join(data, 'train-labels-idx1-ubyte'), encodeIdx([n], labels));
      const out = path.join(root, 'run');
      const main = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
      const child = spawn(process.execPath, [main, '--backend', 'wasm', 'train', '--data', data, '--out', out, '--model', 'fmnist', '--batch', '8', '--epochs', '1000']);
      let stderr = '';
      const code = await new Promise<number | null>((resolve) => {
        child.stderr.on('data', (d: Buffer) => {
          stderr += d.toString();
          // the first finished epoch: then Ctrl-C
          if (/epoch 1\b/.test(stderr) && !child.killed) child.kill('SIGINT');
        });
        child.on('close', resolve);
      });
      const line = stderr.split('\n').find((l) => l.startsWith('pul: error'));
      assert.ok(line, stderr);
      assert.equal(code, 130, stderr);
      assert.equal(errorOf(line).code, 'interrupted');
      assert.match(line, new RegExp(`continue with: pul --backend wasm train --data ${data} --out ${out} .*--epochs 1000 --resume$`));
    }));
});
