/**
 * A small deterministic pipeline for the runner's tests: each stage appends a line computed from the
 * previous one to <run>/trace.txt (written atomically). Run as a script (node toy-pipeline.js RUN_DIR
 * [resume] [slowStage]) it is what the SIGKILL test kills.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseConfig, silentProgress } from '../../src/index.js';
import { runStages, type PipelinePlan, type Stage } from '../../src/pipeline/run-stages.js';
import { writeFileAtomic } from '../../src/core/atomic-fs.js';

export const TOY_CONFIG = parseConfig({ name: 'toy', data: { target: { path: 'x' } }, clustering: { k: 2 }, stop: { maxRounds: 3 } }, 'toy');

async function trace(runDir: string): Promise<string[]> {
  try {
    return (await readFile(path.join(runDir, 'trace.txt'), 'utf8')).split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

export function toyPlan(calls: string[], options: { slowStage?: string; failOnce?: string; stopAtRound?: number } = {}): PipelinePlan {
  let failed = false;
  const stage = (name: string): Stage => ({
    name,
    async run({ runDir, round }) {
      calls.push(`${round}:${name}`);
      if (options.failOnce === `${round}:${name}` && !failed) {
        failed = true;
        throw new Error(`${name} crashed`);
      }
      if (options.slowStage === `${round}:${name}`) await new Promise((r) => setTimeout(r, 60_000));
      const lines = await trace(runDir);
      const previous = Number(lines.at(-1)?.split(' ')[1] ?? 1);
      const value = (previous * 31 + round * 7 + name.length) % 1000;
      await writeFileAtomic(path.join(runDir, 'trace.txt'), [...lines, `${round}:${name} ${value}`].join('\n') + '\n');
      const stop = options.stopAtRound === round && name === 'select' ? 'selection stable' : undefined;
      return { summary: { value }, ...(stop ? { stop } : {}) };
    },
  });
  return { setup: [stage('source')], round: [stage('extract'), stage('cluster'), stage('select'), stage('train')], maxRounds: TOY_CONFIG.stop.maxRounds };
}

if (process.argv[1]?.endsWith('toy-pipeline.js')) {
  const [runDir, resume, slowStage] = process.argv.slice(2);
  await runStages(runDir!, toyPlan([], slowStage ? { slowStage } : {}), { config: TOY_CONFIG, resume: resume === 'resume', progress: silentProgress });
}
