/**
 * The state of a PUL run, saved as <run>/run.json after every stage (atomically), so that
 * `pul run --resume` continues at the first unfinished stage after a crash, a kill or Ctrl-C.
 */
import path from 'node:path';
import { lazySchema, z } from '../core/zod.js';
import { PulError } from '../core/errors.js';
import { readJson, writeJsonAtomic, exists } from '../core/atomic-fs.js';
import { PipelineConfigSchema, type PipelineConfig } from '../config/schema.js';

/** The state file of a run folder. */
export const RUN_STATE_FILE = 'run.json';
export const RUN_STATE_VERSION = 1;

/** One finished stage: which, when, how long, and what it reported (counts, metrics, files). */
export interface StageRecord {
  /** 0 for the stages before the first round (e.g. training the source model). */
  readonly round: number;
  readonly stage: string;
  readonly seconds: number;
  readonly summary: Readonly<Record<string, unknown>>;
}

/** The stage names of a run, so that a saved state tells what comes next. */
export interface PlanOutline {
  readonly setup: readonly string[];
  readonly round: readonly string[];
  readonly maxRounds: number;
}

/** A run's run.json: its configuration, plan and finished stages. */
export interface RunState {
  readonly version: typeof RUN_STATE_VERSION;
  readonly config: PipelineConfig;
  readonly plan: PlanOutline;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly completed: readonly StageRecord[];
  /** Set when the run is over: why it stopped (rounds done, selection stable, …). */
  readonly finished: { readonly reason: string } | null;
}

const RunStateSchema = lazySchema(() => z.strictObject({
  version: z.literal(RUN_STATE_VERSION),
  config: PipelineConfigSchema,
  plan: z.strictObject({ setup: z.array(z.string()), round: z.array(z.string()), maxRounds: z.number().int().min(1) }),
  createdAt: z.string(),
  updatedAt: z.string(),
  completed: z.array(z.strictObject({ round: z.number().int().min(0), stage: z.string(), seconds: z.number(), summary: z.record(z.string(), z.unknown()) })),
  finished: z.strictObject({ reason: z.string() }).nullable(),
}));

export function newRunState(config: PipelineConfig, plan: PlanOutline, now = new Date()): RunState {
  return { version: RUN_STATE_VERSION, config, plan, createdAt: now.toISOString(), updatedAt: now.toISOString(), completed: [], finished: null };
}

export async function saveRunState(runDir: string, state: RunState): Promise<void> {
  await writeJsonAtomic(path.join(runDir, RUN_STATE_FILE), state);
}

/** The saved state of a run folder, or null when it has none; a damaged run.json is a clear error. */
export async function loadRunState(runDir: string): Promise<RunState | null> {
  const file = path.join(runDir, RUN_STATE_FILE);
  if (!(await exists(file))) return null;
  const parsed = RunStateSchema.safeParse(await readJson(file, 'state.invalid'));
  if (!parsed.success) throw new PulError('state.invalid', `${file} is not a pul run state:\n${z.prettifyError(parsed.error)}`, { file });
  return parsed.data;
}

/** Whether a stage of a round is already done. */
export function isDone(state: RunState, round: number, stage: string): boolean {
  return state.completed.some((r) => r.round === round && r.stage === stage);
}

export function recordOf(state: RunState, round: number, stage: string): StageRecord | undefined {
  return state.completed.find((r) => r.round === round && r.stage === stage);
}

/** The next stage to run ({round, stage}), or null when the run is finished. */
export function nextStage(state: RunState): { readonly round: number; readonly stage: string } | null {
  if (state.finished) return null;
  for (const stage of state.plan.setup) if (!isDone(state, 0, stage)) return { round: 0, stage };
  for (let round = 1; round <= state.plan.maxRounds; round++) {
    for (const stage of state.plan.round) if (!isDone(state, round, stage)) return { round, stage };
  }
  return null;
}
