import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PulError, loadRunState, parseConfig, silentProgress } from '../../src/index.js';
import { runStages } from '../../src/pipeline/run-stages.js';
import { withTempDir } from '../helpers/temp-dir.js';
import { TOY_CONFIG, toyPlan } from '../helpers/toy-pipeline.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const run = (dir: string, calls: string[], opts: Parameters<typeof toyPlan>[1] = {}, resume = false) =>
  runStages(dir, toyPlan(calls, opts), { config: TOY_CONFIG, resume, progress: silentProgress });
const read = (dir: string) => readFile(path.join(dir, 'trace.txt'), 'utf8');

test('stages run in order, setup once, then every round; run.json records each', () =>
  withTempDir(async (dir) => {
    const calls: string[] = [];
    const state = await run(dir, calls);
    assert.deepEqual(calls.slice(0, 6), ['0:source', '1:extract', '1:cluster', '1:select', '1:train', '2:extract']);
    assert.equal(calls.length, 1 + 3 * 4);
    assert.deepEqual(state.finished, { reason: '3 rounds done' });
    const saved = await loadRunState(dir);
    assert.equal(saved?.completed.length, 13);
    assert.deepEqual(saved?.finished, state.finished);
  }));

test('a stage can end the run (the selection stop rule)', () =>
  withTempDir(async (dir) => {
    const calls: string[] = [];
    const state = await run(dir, calls, { stopAtRound: 2 });
    assert.equal(calls.at(-1), '2:select');
    assert.deepEqual(state.finished, { reason: 'selection stable' });
    // resuming a finished run does nothing
    const again: string[] = [];
    await run(dir, again, {}, true);
    assert.deepEqual(again, []);
  }));

test('after a crash, --resume redoes nothing that finished and ends as an uninterrupted run', () =>
  withTempDir(async (dir) => {
    const calls: string[] = [];
    await assert.rejects(run(dir, calls, { failOnce: '2:cluster' }), /cluster crashed/);
    assert.equal((await loadRunState(dir))?.completed.length, 1 + 4 + 1);
    const resumed: string[] = [];
    await run(dir, resumed, {}, true);
    assert.equal(resumed[0], '2:cluster');
    assert.equal(resumed.length, 13 - 6);
    await withTempDir(async (clean) => {
      await run(clean, []);
      assert.equal(await read(dir), await read(clean));
    });
  }));

test('a run folder is not overwritten, and resuming with another configuration needs --force', () =>
  withTempDir(async (dir) => {
    await run(dir, [], { stopAtRound: 1 });
    await assert.rejects(run(dir, []), (e: unknown) => e instanceof PulError && e.code === 'state.invalid' && /already holds a run/.test(e.message));
    const changed = parseConfig({ ...TOY_CONFIG, clustering: { ...TOY_CONFIG.clustering, k: 5 }, seed: 3 }, 'flags');
    await assert.rejects(runStages(dir, toyPlan([]), { config: changed, resume: true, progress: silentProgress }), (e: unknown) => e instanceof PulError && e.code === 'state.configChanged' && e.exitCode === 4 && /\(clustering\.k, seed\)/.test(e.message));
    const state = await runStages(dir, toyPlan([]), { config: changed, resume: true, force: true, progress: silentProgress });
    assert.equal(state.config.clustering.k, 5);
    await assert.rejects(runStages(path.join(dir, 'none'), toyPlan([]), { config: TOY_CONFIG, resume: true, progress: silentProgress }), /has no run\.json to resume/);
  }));

test('an abort (Ctrl-C) stops before the next stage with the state saved', () =>
  withTempDir(async (dir) => {
    const controller = new AbortController();
    const plan = toyPlan([]);
    const first = plan.round[0]!;
    const aborting = { ...plan, round: [{ name: first.name, run: async (c: Parameters<typeof first.run>[0]) => { const out = await first.run(c); controller.abort(); return out; } }, ...plan.round.slice(1)] };
    await assert.rejects(runStages(dir, aborting, { config: TOY_CONFIG, signal: controller.signal, progress: silentProgress }), (e: unknown) => e instanceof PulError && e.code === 'interrupted' && e.where?.file === dir && e.where.option === 'resume' && /interrupted before /.test(e.message));
    assert.equal((await loadRunState(dir))?.completed.at(-1)?.stage, 'extract');
  }));

test('killed with SIGKILL in the middle of a stage, the run resumes and ends as an uninterrupted one', () =>
  withTempDir(async (dir) => {
    const script = path.join(here, '../helpers/toy-pipeline.js');
    const child = spawn(process.execPath, [script, dir, 'new', '2:train'], { stdio: 'ignore' });
    // wait until round 2's select is recorded, then kill during the slow train stage
    for (let i = 0; i < 200; i++) {
      const state = await loadRunState(dir).catch(() => null);
      if (state?.completed.some((r) => r.round === 2 && r.stage === 'select')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await new Promise((r) => setTimeout(r, 100));
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const partial = await loadRunState(dir);
    assert.equal(partial?.finished, null);
    assert.equal(partial?.completed.at(-1)?.stage, 'select');
    await run(dir, [], {}, true);
    await withTempDir(async (clean) => {
      await run(clean, []);
      assert.equal(await read(dir), await read(clean));
    });
    await stat(path.join(dir, 'run.json'));
  }));

test('describeRun tells per round what ran and what comes next; pul inspect prints it', () =>
  withTempDir(async (dir) => {
    const { describeRun, formatRunOverview } = await import('../../src/index.js');
    await assert.rejects(run(dir, [], { failOnce: '1:select' }), /select crashed/);
    const state = await loadRunState(dir);
    const overview = describeRun(state!);
    assert.deepEqual(overview.next, { round: 1, stage: 'select' });
    assert.deepEqual(Object.keys(overview.rounds[1]!.stages), ['extract', 'cluster']);
    assert.match(formatRunOverview(overview), /^run toy \(pul: k-means K=2, 3 rounds at most\): next: select of round 1\nsetup: source [\d.]+s \(value \d+\)\nround 1: extract/);
    const { runCli } = await import('../helpers/run-cli.js');
    const r = await runCli(['inspect', dir, '--json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((JSON.parse(r.stdout) as { next: unknown }).next, { round: 1, stage: 'select' });
    const none = await runCli(['inspect', path.join(dir, 'nothing')]);
    assert.equal(none.code, 4);
    assert.match(none.stderr, /holds neither meta\.json \(a checkpoint\) nor run\.json \(a run folder\)/);
  }));
