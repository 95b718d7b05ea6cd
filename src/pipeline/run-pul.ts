/**
 * A whole PUL run: the built-in demo set generated when the config asks for it, the run folder
 * (`<out>/<name>`, or `<name>-2`, … when that is taken), setup stages (source model, baseline) and
 * rounds of extract → cluster → select → train → evaluate, `metrics.jsonl` refreshed after every
 * stage, and the summary of what happened. `resume` continues a run folder where it stopped.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { exists, writeFileAtomic } from '../core/atomic-fs.js';
import { lockDir, type DirLock } from '../core/dir-lock.js';
import { PulError } from '../core/errors.js';
import { claimOutputDir, prepareOutput, type OutputKind } from '../core/output-dir.js';
import type { ProgressSink } from '../core/progress.js';
import type { PipelineConfig } from '../config/schema.js';
import { ensureSyntheticReid, syntheticReidCounts } from '../datasets/synthetic-reid.js';
import { runStages, type PipelinePlan } from './run-stages.js';
import { PulSession, checkPulConfig } from './pul-session.js';
import { baselineStage, sourceStage } from './setup-stages.js';
import { clusterStage, evaluateStage, extractStage, selectStage, trainStage } from './round-stages.js';
import { contrastTrainStage, denseSelectStage, densityClusterStage } from './contrast-stages.js';
import { summarizePulRun, type PulRunSummary } from './run-summary.js';
import { RUN_STATE_FILE, loadRunState, type RunState } from './state.js';
import { writeSkippedImages } from './skipped-images.js';

/** One JSON line per finished stage, in the run folder. */
export const METRICS_LOG = 'metrics.jsonl';

/** Failures after which resuming makes sense (the cause is outside the configuration). */
const RESUMABLE = new Set(['interrupted', 'io.writeFailed']);
/** Failures caused by an image file met mid-run: resumable once the file is fixed or left out. */
const BAD_IMAGE = new Set(['image.corrupt', 'dataset.unreadable']);

/** Options of runPul: the configuration, the run folder to resume, cancellation and progress. */
export interface PulRunOptions {
  readonly config: PipelineConfig;
  /** Continue this run folder (it must hold run.json). Without it a new folder under config.out is made. */
  readonly resume?: string;
  readonly force?: boolean;
  readonly signal?: AbortSignal;
  readonly progress: ProgressSink;
}

/** The run folder, its final state and summary. */
export interface PulRunResult {
  readonly runDir: string;
  readonly state: RunState;
  readonly summary: PulRunSummary;
}

/** The stages of a run, in order: PUL's rounds, or Cluster-Contrast's epochs (config.method). */
export function pulPlan(session: PulSession): PipelinePlan {
  if (session.config.method === 'cluster-contrast') {
    return {
      setup: [sourceStage(session), baselineStage(session)],
      round: [extractStage(session), densityClusterStage(session), denseSelectStage(session), contrastTrainStage(session), evaluateStage(session)],
      maxRounds: session.config.clusterContrast.epochs,
    };
  }
  return {
    setup: [sourceStage(session), baselineStage(session)],
    round: [extractStage(session), clusterStage(session), selectStage(session), trainStage(session), evaluateStage(session)],
    maxRounds: session.config.stop.maxRounds,
  };
}

/** `<out>/<name>` when free, else the first free `<out>/<name>-N`. */
async function newRunDir(out: string, name: string): Promise<string> {
  const taken = new Set(await readdir(out).catch(() => [] as string[]));
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? name : `${name}-${n}`;
    if (!taken.has(candidate)) return path.join(out, candidate);
  }
}

/** A runs folder of an earlier pul (no marker): run folders (each with run.json), and a README or dotfiles. */
async function legacyRuns(entries: readonly string[], dir: string): Promise<OutputKind | null> {
  let runs = 0;
  for (const e of entries) {
    if (await exists(path.join(dir, e, RUN_STATE_FILE))) runs++;
    else if (e !== 'README.md' && !e.startsWith('.')) return null;
  }
  return runs > 0 ? 'runs' : null;
}

/** The demo set's target size when it is still to be generated (from the generator's parameters), else null. */
async function syntheticTargetToGenerate(config: PipelineConfig): Promise<{ train: number } | null> {
  const synthetic = config.data.synthetic;
  if (synthetic === undefined || path.resolve(config.data.target.path) !== path.resolve(synthetic.out, 'target')) return null;
  if ((await exists(path.join(synthetic.out, 'source'))) && (await exists(path.join(synthetic.out, 'target')))) return null;
  return syntheticReidCounts({ seed: synthetic.seed }).target;
}

/**
 * Runs (or resumes) PUL as configured. Everything the configuration and the data tell is checked
 * before the run folder is made (or the demo set generated); a new run that fails before its first
 * stage is done leaves no folder behind. The run folder is locked while the run is under way.
 * @example
 * const { summary } = await runPul({ config: await loadConfig('pipelines/demo.json'), progress: streamProgress() });
 * console.log(summary.gain);
 */
export async function runPul(options: PulRunOptions): Promise<PulRunResult> {
  const { config, progress } = options;
  await checkPulConfig(config, await syntheticTargetToGenerate(config));
  const runs = options.resume === undefined ? await prepareOutput(config.out, { kind: 'runs', command: 'pul run', option: 'out (--out)', mode: 'grow', legacy: legacyRuns }) : null;
  const synthetic = config.data.synthetic;
  if (synthetic !== undefined) {
    if (!(await exists(path.join(synthetic.out, 'source'))) || !(await exists(path.join(synthetic.out, 'target')))) progress.log(`generating the synthetic demo set in ${synthetic.out} (first use)`);
    await ensureSyntheticReid({ out: synthetic.out, seed: synthetic.seed, option: 'data.synthetic.out' });
  }
  const runDir = options.resume ?? (await newRunDir(config.out, config.name));
  const session = new PulSession(runDir, config, progress);
  await session.preflight();
  if (runs !== null) {
    await claimOutputDir(runs);
    try {
      await mkdir(runDir); // not recursive: a folder another process made meanwhile is not taken over
    } catch (err) {
      throw new PulError('output.exists', `cannot create the run folder ${runDir}: ${(err as Error).message}`, { file: runDir, option: '--name' }, { cause: err });
    }
  }
  progress.log(`${options.resume ? 'resuming' : 'run'} ${runDir}`);
  let lock: DirLock | null = null;
  try {
    lock = await lockDir(runDir, 'pul run', options.resume ? '--resume' : '--name');
    const state = await runStages(runDir, pulPlan(session), {
      config,
      resume: options.resume !== undefined,
      ...(options.force ? { force: true } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      progress,
      afterStage: async (s) => {
        await writeMetricsLog(runDir, s);
        const { skipped } = await session.data();
        if (skipped.length > 0) await writeSkippedImages(runDir, skipped);
      },
    });
    return { runDir, state, summary: summarizePulRun(state) };
  } catch (err) {
    const resumable = err instanceof PulError && RESUMABLE.has(err.code);
    // a new run that finished no stage and cannot be resumed leaves nothing behind
    if (runs !== null && !resumable && ((await loadRunState(runDir).catch(() => null))?.completed.length ?? 0) === 0) {
      await lock?.release();
      lock = null;
      await rm(runDir, { recursive: true, force: true });
      throw err;
    }
    // finished stages are kept: the error points at the run to resume (where.file, option 'resume')
    const badImage = err instanceof PulError && BAD_IMAGE.has(err.code);
    if ((resumable || badImage) && (await exists(path.join(runDir, RUN_STATE_FILE))) && !(err.where?.option === 'resume' && err.where.file === runDir)) {
      const file = err.where?.file;
      const message = file === undefined || err.message.includes(file) ? err.message : `${file}: ${err.message}`;
      const fix = badImage ? '; fix or remove the file, or leave such images out with --skip-bad (data.skipBad; a changed configuration, so --resume needs --force)' : '';
      throw new PulError(err.code, `${message}${fix}; the finished stages are kept`, { ...err.where, file: runDir, option: 'resume' }, { cause: err });
    }
    throw err;
  } finally {
    await lock?.release();
  }
}

/** `<run>/metrics.jsonl`: one JSON line per finished stage, rebuilt from run.json (so a resume never duplicates lines). */
async function writeMetricsLog(runDir: string, state: RunState): Promise<void> {
  const lines = state.completed.map((r) => JSON.stringify({ round: r.round, stage: r.stage, seconds: r.seconds, ...r.summary }));
  await writeFileAtomic(path.join(runDir, METRICS_LOG), `${lines.join('\n')}\n`);
}

/** Whether `dir` holds a PUL run. */
export function isRunDir(dir: string): Promise<boolean> {
  return exists(path.join(dir, RUN_STATE_FILE));
}
