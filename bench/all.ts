/**
 * `npm run bench -- --out DIR [--quick] [--only backend,cluster,…]`: every benchmark in sequence, each in
 * its own process, then one bench.json and one bench.md in DIR: the machine (CPU model, ISA flags, cores),
 * the commit, the date, and per bench its status, wall seconds, every table it printed (with its ratios to
 * the peers measured in the same run) and its output. A peer whose Python module is missing here
 * (python3-torch, python3-sklearn, numpy) is not run: that bench uses the peer's recorded figures
 * (PUL_BENCH_RECORDED=1), said in its row. --quick bounds the run (fewer timed runs, no 2048-d k-means,
 * one hash repeat, one metric configuration of one epoch, and neither the 100 000-row index nor the
 * end-to-end pipeline against PyTorch, which take ~7 and ~30 min).
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadNativeKernels } from '../src/backend/native.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../..');
const PYTHON = '/usr/bin/python3';

interface Bench {
  readonly name: string;
  /** The Python module its peer needs (null: no peer run in the same session). */
  readonly peer: 'torch' | 'sklearn' | 'numpy' | null;
  args(out: string, quick: boolean): string[];
  env(quick: boolean): Record<string, string>;
  /** Too long for --quick (a whole pipeline run, a 100 000-row index). */
  readonly skipInQuick?: boolean;
}

const BENCHES: readonly Bench[] = [
  { name: 'backend', peer: 'torch', args: () => [], env: (q) => ({ PUL_BENCH_RUNS: q ? '2' : '5' }) },
  { name: 'train', peer: null, args: () => [], env: () => ({}) },
  { name: 'cluster', peer: 'sklearn', args: () => [], env: (q) => (q ? { PUL_BENCH_QUICK: '1' } : {}) },
  { name: 'eval', peer: 'numpy', args: () => [], env: () => ({}) },
  { name: 'data', peer: null, args: () => [], env: () => ({}) },
  { name: 'hash', peer: null, args: (_, q) => ['--repeats', q ? '1' : '3'], env: () => ({}) },
  { name: 'metric', peer: null, args: (out, q) => ['--out', path.join(out, 'metric'), '--epochs', '1', '--only', q ? 'ce' : 'ce,triplet-hard'], env: () => ({}) },
  { name: 'density', peer: null, args: () => [], env: () => ({}) },
  { name: 'index', peer: null, args: (out) => ['--out', path.join(out, 'index')], env: () => ({}), skipInQuick: true },
  { name: 'e2e', peer: 'torch', args: () => [], env: () => ({}), skipInQuick: true },
];

interface Table {
  readonly header: readonly string[];
  readonly rows: readonly (readonly (string | number | null)[])[];
}

interface BenchResult {
  readonly name: string;
  readonly command: string;
  readonly status: 'ok' | 'failed';
  readonly exitCode: number | null;
  readonly seconds: number;
  /** How its peer ran: measured now, recorded figures (module missing) or none. */
  readonly peer: string;
  readonly tables: readonly Table[];
  readonly stdout: string;
  readonly stderrTail: string;
}

function parseArgs(argv: readonly string[]): { out: string; quick: boolean; only: string[] | null } {
  let out: string | null = null;
  let quick = false;
  let only: string[] | null = null;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--out') out = argv[++i] ?? null;
    else if (a === '--quick') quick = true;
    else if (a === '--only') only = (argv[++i] ?? '').split(',').filter((s) => s.length > 0);
    else throw new Error(`unknown argument ${a} (npm run bench -- --out DIR [--quick] [--only ${BENCHES.map((b) => b.name).join(',')}])`);
  }
  if (out === null) throw new Error('--out DIR is needed (npm run bench -- --out DIR [--quick])');
  const unknown = (only ?? []).filter((n) => !BENCHES.some((b) => b.name === n));
  if (unknown.length > 0) throw new Error(`--only: no bench ${unknown.join(', ')} (benches: ${BENCHES.map((b) => b.name).join(', ')})`);
  return { out: path.resolve(out), quick, only };
}

function pythonHas(module: string): boolean {
  if (!existsSync(PYTHON)) return false;
  try {
    execFileSync(PYTHON, ['-c', `import ${module}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** CPU model, the vector ISA flags that matter for pul's kernels and PyTorch's, cores, memory, OS, Node. */
function machine(): Record<string, unknown> {
  let flags: string[] = [];
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8').split('\n').find((l) => l.startsWith('flags'));
    const all = new Set((line ?? '').split(':')[1]?.trim().split(/\s+/) ?? []);
    flags = ['sse4_2', 'popcnt', 'avx', 'avx2', 'fma', 'f16c', 'avx512f', 'avx512bw', 'avx512vl', 'avx512_vnni', 'avx512_bf16', 'avx512_vpopcntdq', 'amx_tile', 'neon', 'asimd'].filter((f) => all.has(f));
  } catch {
    // not Linux: no flags
  }
  // the instruction set pul's native GEMM runs here (the benches' child processes choose the same way)
  const native = loadNativeKernels(1).status;
  return {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    isa: flags,
    nativeGemm: native.loaded ? `${native.isa ?? 'unknown'}${native.isaForced ? ' (PUL_ISA)' : ''}` : `off (${native.reason ?? 'unknown'})`,
    memoryGB: +(os.totalmem() / 2 ** 30).toFixed(1),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    loadAverage: os.loadavg().map((v) => +v.toFixed(2)),
  };
}

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return dirty ? `${head} (with uncommitted changes)` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

function runBench(b: Bench, out: string, quick: boolean, peerMissing: string | null): Promise<BenchResult> {
  const record = path.join(out, `.${b.name}.tables.jsonl`);
  rmSync(record, { force: true });
  const script = path.join(here, `${b.name}.js`);
  const args = b.args(out, quick);
  const env: Record<string, string> = { ...b.env(quick), PUL_BENCH_JSON: record, ...(peerMissing ? { PUL_BENCH_RECORDED: '1' } : {}) };
  const command = `${Object.entries(b.env(quick)).map(([k, v]) => `${k}=${v} `).join('')}node dist/bench/${b.name}.js ${args.join(' ')}`.trim();
  process.stderr.write(`\n== ${b.name}: ${command}\n`);
  const started = performance.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      process.stderr.write(d);
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      process.stderr.write(d);
    });
    child.on('close', (code) => {
      const tables = existsSync(record) ? readFileSync(record, 'utf8').trim().split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Table) : [];
      rmSync(record, { force: true });
      resolve({
        name: b.name,
        command,
        status: code === 0 ? 'ok' : 'failed',
        exitCode: code,
        seconds: +((performance.now() - started) / 1000).toFixed(1),
        peer: b.peer === null ? 'none (figures from its own source)' : peerMissing ? `recorded figures: ${peerMissing}` : `${b.peer} run in the same session`,
        tables,
        stdout,
        stderrTail: stderr.split('\n').slice(-15).join('\n'),
      });
    });
  });
}

function markdownTable(t: Table): string {
  const cell = (c: string | number | null): string => (c === null ? '–' : typeof c === 'number' ? (Number.isInteger(c) ? String(c) : Math.abs(c) >= 100 ? c.toFixed(0) : c.toPrecision(3)) : c.replace(/\|/g, '\\|'));
  return [`| ${t.header.join(' | ')} |`, `|${t.header.map(() => '---').join('|')}|`, ...t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`)].join('\n');
}

function markdown(report: { machine: Record<string, unknown>; commit: string; date: string; quick: boolean; seconds: number; results: readonly BenchResult[] }): string {
  const m = report.machine;
  const lines = [
    `# pul benchmarks${report.quick ? ' (--quick)' : ''}`,
    '',
    `- date: ${report.date}; total ${report.seconds.toFixed(0)} s`,
    `- commit: ${report.commit}`,
    `- machine: ${String(m['cpu'])}, ${String(m['cores'])} cores, ${String(m['memoryGB'])} GB; ISA: ${(m['isa'] as string[]).join(' ') || 'unknown'}; pul's native GEMM: ${String(m['nativeGemm'])}; ${String(m['os'])}; Node ${String(m['node'])}; load average at the start ${(m['loadAverage'] as number[]).join(' / ')}`,
    '- ratios are to the peers (PyTorch, scikit-learn, numpy) measured in the same run unless the row says "recorded"',
    '',
    '| bench | status | seconds | peer | command |',
    '|---|---|---|---|---|',
    ...report.results.map((r) => `| ${r.name} | ${r.status}${r.exitCode ? ` (exit ${r.exitCode})` : ''} | ${r.seconds} | ${r.peer} | \`${r.command}\` |`),
  ];
  for (const r of report.results) {
    lines.push('', `## ${r.name}`, '');
    for (const t of r.tables) lines.push(markdownTable(t), '');
    lines.push('<details><summary>output</summary>', '', '```', r.stdout.trimEnd(), '```', '', '</details>');
    if (r.status !== 'ok') lines.push('', 'stderr (last lines):', '', '```', r.stderrTail.trimEnd(), '```');
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<void> {
  const a = parseArgs(process.argv.slice(2));
  mkdirSync(a.out, { recursive: true });
  const date = new Date().toISOString();
  const info = { machine: machine(), commit: commit(), date, quick: a.quick };
  const missing = new Map<string, string | null>();
  for (const peer of ['torch', 'sklearn', 'numpy'] as const) missing.set(peer, pythonHas(peer) ? null : `${PYTHON} cannot import ${peer} here`);
  const started = performance.now();
  const results: BenchResult[] = [];
  for (const b of BENCHES.filter((x) => (a.only === null ? !(a.quick && x.skipInQuick) : a.only.includes(x.name)))) {
    results.push(await runBench(b, a.out, a.quick, b.peer === null ? null : (missing.get(b.peer) ?? null)));
  }
  const report = { ...info, seconds: (performance.now() - started) / 1000, results };
  writeFileSync(path.join(a.out, 'bench.json'), `${JSON.stringify(report, null, 1)}\n`);
  writeFileSync(path.join(a.out, 'bench.md'), markdown(report));
  process.stderr.write(`\nwrote ${path.join(a.out, 'bench.json')} and bench.md (${results.filter((r) => r.status !== 'ok').length} failed of ${results.length})\n`);
  if (results.some((r) => r.status !== 'ok')) process.exitCode = 1;
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 2;
});
