/** zod and the schemas load on first use: importing the library builds none (start-up time of every command). */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { builtSchema, lazySchema, z } from '../../src/core/zod.js';

const here = path.dirname(fileURLToPath(import.meta.url));

test('importing the library loads neither zod nor tfjs; parsing a config then does', () => {
  const index = path.resolve(here, '../../src/index.js');
  const script = `
    const { createRequire } = require('node:module');
    const loaded = (name) => Object.keys(createRequire(${JSON.stringify(index)}).cache).some((k) => k.includes('/node_modules/' + name + '/'));
    import(${JSON.stringify(index)}).then((pul) => {
      const before = [loaded('zod'), loaded('@tensorflow/tfjs-core')];
      const parsed = pul.PipelineConfigSchema.safeParse({ model: {} });
      console.log(JSON.stringify({ before, after: loaded('zod'), ok: parsed.success, paths: parsed.error.issues.map((i) => i.path.join('.')) }));
    });`;
  const run = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual(JSON.parse(run.stdout), { before: [false, false], after: true, ok: false, paths: ['data'] });
});

test('a lazy schema parses, nests, reports errors and keeps its description like the schema it builds', () => {
  let builds = 0;
  const inner = lazySchema(() => {
    builds++;
    return z.object({ a: z.number().int() }).describe('inner');
  });
  const outer = lazySchema(() => z.strictObject({ x: inner, y: z.string().optional() }).describe('outer'));
  assert.equal(builds, 0);
  assert.deepEqual(outer.parse({ x: { a: 2 }, y: 'q' }), { x: { a: 2 }, y: 'q' });
  assert.equal(outer.safeParse({ x: { a: 1.5 } }).success, false);
  assert.equal(outer.safeParse({ x: { a: 1 }, z: 0 }).success, false);
  assert.equal(builds, 1);
  assert.equal(outer.description, 'outer');
  // zod's registry of descriptions is keyed by the built schema: hand that one to toJSONSchema
  assert.equal((z.toJSONSchema(builtSchema(outer)) as { description?: string }).description, 'outer');
  assert.equal((z.toJSONSchema(outer) as { description?: string }).description, undefined);
});
