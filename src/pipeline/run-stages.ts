/**
 * The order of a PUL run, and nothing else: setup stages once, then rounds of stages until a stage
 * says stop or the round limit is reached. After each stage the state is saved atomically; a resumed
 * run skips what is recorded as done. Stages are functions given their round and the records so far;
 * they write their own outputs (atomically) under the run folder.
 */
import { PulError } from '../core/errors.js';
import type { ProgressSink } from '../core/progress.js';
import { checkResumeSettings } from '../config/load-config.js';
import type { PipelineConfig } from '../config/schema.js';
import { isDone, loadRunState, newRunState, saveRunState, type RunState, type StageRecord } from './state.js';

export interface StageContext {
  readonly runDir: string;
  readonly round: number;
  readonly state: RunState;
  readonly signal: AbortSignal;
  readonly progress: ProgressSink;
}

export interface StageOutcome {
  readonly summary: Record<string, unknown>;
  /** Set by a stage that ends the run (e.g. the pseudo-labelled selection settled below stop.minChange): the reason. */
  readonly stop?: string;
}

export interface Stage {
  readonly name: string;
  run(context: StageContext): Promise<StageOutcome>;
}

export interface PipelinePlan {
  /** Run once, as round 0 (e.g. training the source model, its baseline evaluation). */
  readonly setup: readonly Stage[];
  /** Run every round, in order. */
  readonly round: readonly Stage[];
  readonly maxRounds: number;
}

export interface RunOptions {
  readonly config: PipelineConfig;
  /** Continue a run folder that has a run.json (else it must have none). */
  readonly resume?: boolean;
  /** Resume even though the configuration changed. */
  readonly force?: boolean;
  readonly signal?: AbortSignal;
  readonly progress: ProgressSink;
  /** Called after each stage's record is saved (e.g. to refresh derived files). */
  readonly afterStage?: (state: RunState) => Promise<void>;
}

export async function runStages(runDir: string, plan: PipelinePlan, options: RunOptions): Promise<RunState> {
  const saved = await loadRunState(runDir);
  let state: RunState;
  if (saved === null) {
    if (options.resume) throw new PulError('state.invalid', `${runDir} has no run.json to resume`, { file: runDir });
    state = newRunState(options.config, { setup: plan.setup.map((s) => s.name), round: plan.round.map((s) => s.name), maxRounds: plan.maxRounds });
    await saveRunState(runDir, state);
  } else {
    if (!options.resume) throw new PulError('state.invalid', `${runDir} already holds a run; resume it, or choose another output folder or name`, { file: runDir, option: 'resume' });
    const changed = checkResumeSettings(saved.config, options.config, { dir: runDir, what: 'configuration', ...(options.force ? { force: true } : {}) });
    state = changed.length > 0 ? { ...saved, config: options.config } : saved;
  }
  const signal = options.signal ?? new AbortController().signal;

  const runStage = async (stage: Stage, round: number): Promise<string | undefined> => {
    if (isDone(state, round, stage.name)) return state.completed.find((r) => r.round === round && r.stage === stage.name)?.summary['stop'] as string | undefined;
    if (signal.aborted) throw new PulError('interrupted', `interrupted before ${stage.name} of round ${round}`, { file: runDir, option: 'resume' });
    options.progress.log(`${round === 0 ? 'setup' : `round ${round}/${plan.maxRounds}`} · ${stage.name}`);
    const started = performance.now();
    const outcome = await stage.run({ runDir, round, state, signal, progress: options.progress });
    const record: StageRecord = {
      round,
      stage: stage.name,
      seconds: (performance.now() - started) / 1000,
      summary: outcome.stop === undefined ? outcome.summary : { ...outcome.summary, stop: outcome.stop },
    };
    state = { ...state, updatedAt: new Date().toISOString(), completed: [...state.completed, record] };
    await saveRunState(runDir, state);
    await options.afterStage?.(state);
    return outcome.stop;
  };

  if (state.finished) return state;
  for (const stage of plan.setup) {
    const stop = await runStage(stage, 0);
    if (stop !== undefined) return finish(stop);
  }
  for (let round = 1; round <= plan.maxRounds; round++) {
    for (const stage of plan.round) {
      const stop = await runStage(stage, round);
      if (stop !== undefined) return finish(stop);
    }
  }
  return finish(`${plan.maxRounds} rounds done`);

  async function finish(reason: string): Promise<RunState> {
    state = { ...state, updatedAt: new Date().toISOString(), finished: { reason } };
    await saveRunState(runDir, state);
    return state;
  }
}
