import assert from 'node:assert/strict';
import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PulError, configDifferences, configJsonSchema, configReference, loadConfig } from '../../src/index.js';
import { withTempDir } from '../helpers/temp-dir.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const pipelines = path.join(root, 'pipelines');
const invalid = (pattern: RegExp) => (e: unknown) => e instanceof PulError && e.code === 'config.invalid' && e.exitCode === 2 && pattern.test(e.message);

test('every shipped pipelines/*.json validates, with the defaults of the authors\' code filled in', async () => {
  const files = (await readdir(pipelines)).filter((f) => f.endsWith('.json') && f !== 'schema.json');
  assert.ok(files.length >= 5, files.join(', '));
  for (const f of files) await loadConfig(path.join(pipelines, f));
  const demo = await loadConfig(path.join(pipelines, 'demo.json'));
  assert.deepEqual(demo.selection, { anchor: 'nearest-sample', scope: 'any', lambda: { schedule: 'constant', value: 0.85 }, minSelected: 1 });
  assert.deepEqual(demo.stop, { maxRounds: 4, minChange: 0, minRounds: 1 });
  assert.equal(demo.training.retrainFrom, 'source');
  assert.equal(demo.training.clusterLossWeight, 0);
  const market = await loadConfig(path.join(pipelines, 'market1501.json'));
  assert.deepEqual([market.clustering.k, market.training.epochsPerRound, market.training.batchSize, market.training.optimizer.lr, market.stop.maxRounds], [750, 20, 16, 0.001, 25]);
  assert.equal((await loadConfig(path.join(pipelines, 'dukemtmc.json'))).clustering.k, 700);
  assert.ok(Object.isFrozen(demo.selection));
});

test('an unknown key, a wrong type and λ out of range are one error naming the file and each key', () =>
  withTempDir(async (dir) => {
    const file = path.join(dir, 'bad.json');
    await writeFile(file, JSON.stringify({ data: { target: { path: 't' } }, clustering: { k: 0, kk: 3 }, selection: { lambda: { schedule: 'constant', value: 1.3 } }, seed: 'x' }));
    await assert.rejects(loadConfig(file), (e: unknown) => {
      assert.ok(invalid(/bad\.json is not a valid pipeline configuration/)(e));
      const message = (e as Error).message;
      for (const key of ['clustering.k', 'kk', 'selection.lambda.value', 'seed']) assert.match(message, new RegExp(key.replace('.', '\\.')), `mentions ${key}`);
      return true;
    });
    await writeFile(file, JSON.stringify({ data: { target: { path: 't' } }, clustering: { k: 2 }, stop: { minRounds: 0, minChange: 2 } }));
    await assert.rejects(loadConfig(file), (e: unknown) => invalid(/stop\.minRounds/)(e) && /stop\.minChange/.test((e as Error).message));
    await writeFile(file, '{ "data": ');
    await assert.rejects(loadConfig(file), invalid(/bad\.json is not valid JSON/));
  }));

test('overrides (CLI flags) apply on top of the file; the paper\'s growing λ is a valid alternative', async () => {
  const config = await loadConfig(path.join(pipelines, 'demo.json'), {
    clustering: { k: 20 },
    seed: 7,
    selection: { anchor: 'centroid', scope: 'own', lambda: { schedule: 'growing', start: 0.6, step: 0.05, max: 0.9 } },
  });
  assert.equal(config.clustering.k, 20);
  assert.equal(config.seed, 7);
  assert.equal(config.data.target.path, 'datasets/demo/target');
  assert.deepEqual(config.selection.lambda, { schedule: 'growing', start: 0.6, step: 0.05, max: 0.9 });
  await assert.rejects(loadConfig(undefined, { clustering: { k: 3 } }), invalid(/the command-line options.*data/s));
});

test('configDifferences names the keys that differ (for --resume with a changed config)', () => {
  assert.deepEqual(configDifferences({ a: 1, b: { c: 2, d: [1] } }, { a: 1, b: { c: 3, d: [1, 2] }, e: 0 }), ['b.c', 'b.d', 'e']);
  assert.deepEqual(configDifferences({ a: { b: 1 } }, { a: { b: 1 } }), []);
});

test('pipelines/schema.json and the key table of pipelines/README.md are up to date (npm run config:docs)', async () => {
  assert.deepEqual(JSON.parse(await readFile(path.join(pipelines, 'schema.json'), 'utf8')), JSON.parse(JSON.stringify(configJsonSchema())));
  assert.ok((await readFile(path.join(pipelines, 'README.md'), 'utf8')).includes(configReference()));
});
