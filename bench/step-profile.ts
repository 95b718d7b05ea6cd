/**
 * node dist/bench/step-profile.js [fmnist|reid …] — where one training step of the reference nets goes
 * (batch 64, SGD momentum 0.9, weight decay 5e-4: bench:backend's step), kernel by kernel: every kernel
 * registered for the wasm backend is timed (outermost calls only, so a pul kernel calling the backend's
 * own is counted once), grouped by phase (forward, backward, optimiser update) and output shape. What the
 * kernels do not account for is the engine's own work (tape, scopes, disposal): "engine overhead".
 * Beside the wall time, the process's CPU time (every thread) per kernel: on a shared machine it is the
 * steadier figure (a descheduled thread adds wall time, not CPU time). PUL_PROFILE_STEPS sets the timed
 * steps (default 10).
 */
import { selectBackend } from '../src/index.js';
import { timeWasmKernels } from './kernel-timer.js';
import { table } from './peers.js';
import { REFERENCE_NETS, referenceTrainStep, type ReferenceNetName } from './reference-nets.js';

type Phase = 'forward' | 'backward' | 'update';

const STEPS = Number(process.env['PUL_PROFILE_STEPS'] ?? 10);

interface Entry {
  ms: number;
  cpuMs: number;
  calls: number;
}

const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

const totals = new Map<string, Entry>();
let phase: Phase = 'forward';
let recording = false;

function instrumentKernels(): void {
  timeWasmKernels((kernelName, shape, ms, cpu) => {
    const key = `${phase}\t${kernelName}\t${shape}`;
    const e = totals.get(key) ?? { ms: 0, cpuMs: 0, calls: 0 };
    e.ms += ms;
    e.cpuMs += cpu;
    e.calls++;
    totals.set(key, e);
  }, () => recording);
}

async function profile(name: ReferenceNetName): Promise<void> {
  const step = referenceTrainStep(name, {
    afterForward: () => {
      phase = 'backward';
    },
    afterGradients: () => {
      phase = 'update';
    },
  });
  for (let i = 0; i < 3; i++) await step.run();
  totals.clear();
  let wall = 0;
  let cpu = 0;
  for (let i = 0; i < STEPS; i++) {
    phase = 'forward';
    recording = true;
    const t = performance.now();
    const c = cpuMs();
    await step.run();
    cpu += cpuMs() - c;
    wall += performance.now() - t;
    recording = false;
  }
  step.dispose();
  const perStep = wall / STEPS;
  const cpuPerStep = cpu / STEPS;
  const rows = [...totals.entries()].map(([key, e]) => {
    const [p, kernel, shape] = key.split('\t');
    return { p: p!, kernel: kernel!, shape: shape!, ms: e.ms / STEPS, cpu: e.cpuMs / STEPS, calls: e.calls / STEPS };
  });
  const sum = (rs: typeof rows, f: (r: (typeof rows)[number]) => number) => rs.reduce((s, r) => s + f(r), 0);
  rows.sort((a, b) => b.cpu - a.cpu);
  const threshold = Number(process.env["PUL_PROFILE_MIN"] ?? 0.01);
  const shown = rows.filter((r) => r.cpu >= threshold * cpuPerStep);
  const rest = rows.filter((r) => r.cpu < threshold * cpuPerStep);
  const line = (p: string, what: string, shape: string, calls: number | string, ms: number, cpuMsOf: number): (string | number)[] => [
    p, what, shape, typeof calls === 'number' ? +calls.toFixed(1) : calls, +ms.toFixed(2), +cpuMsOf.toFixed(2), `${((100 * cpuMsOf) / cpuPerStep).toFixed(1)} %`,
  ];
  const out = shown.map((r) => line(r.p, r.kernel, r.shape, r.calls, r.ms, r.cpu));
  out.push(line('', `${rest.length} other kernel/shape pairs (< 1 % each)`, '', sum(rest, (r) => r.calls), sum(rest, (r) => r.ms), sum(rest, (r) => r.cpu)));
  for (const p of ['forward', 'backward', 'update'] as const) {
    const of = rows.filter((r) => r.p === p);
    out.push(line(p, 'all kernels', '', sum(of, (r) => r.calls), sum(of, (r) => r.ms), sum(of, (r) => r.cpu)));
  }
  out.push(line('', 'engine overhead (step − kernels)', '', '', perStep - sum(rows, (r) => r.ms), cpuPerStep - sum(rows, (r) => r.cpu)));
  out.push(line('', 'step', '', '', perStep, cpuPerStep));
  process.stdout.write(`\n${name}: ${STEPS} steps, ${(64000 / perStep).toFixed(1)} img/s while profiled\n`);
  process.stdout.write(`${table(['phase', 'kernel', 'first input', 'calls', 'wall ms', 'CPU ms', 'of step CPU'], out)}\n`);
}

async function main(): Promise<void> {
  const info = await selectBackend('wasm');
  process.stderr.write(`backend ${info.backend}${info.native?.loaded ? `, native GEMM ${info.native.isa ?? '?'}` : ', no native kernels'}\n`);
  instrumentKernels();
  const names = process.argv.slice(2).length > 0 ? (process.argv.slice(2) as ReferenceNetName[]) : (Object.keys(REFERENCE_NETS) as ReferenceNetName[]);
  for (const name of names) await profile(name);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
