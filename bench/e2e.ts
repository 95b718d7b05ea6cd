/**
 * `npm run bench:e2e [-- --config pipelines/fmnist-disjoint.json] [--peer-json F --peer-log F] [--keep DIR]`:
 * one whole `pul run` against the PyTorch port of the same pipeline (../shared/peers/pul_ref.py: same
 * net, data split, K, λ, epochs, batch, stop rule), each as its own process, one after the other, with
 * wall time per stage side by side: source training, baseline, and per round extract, cluster + select
 * (the peer does both in one call), train, evaluate. The ratio is pul's wall time over PyTorch's, in total
 * and per round (the two may stop after different rounds: the stop rule sees each side's own selection).
 * --peer-json/--peer-log reuse a pul_ref.py run of this session (its stdout and stderr) instead of running
 * it again: the peer alone takes ~15 min here (also as PUL_E2E_PEER_JSON / PUL_E2E_PEER_LOG). With
 * PUL_BENCH_RECORDED=1 (no PyTorch here) the peer's recorded result is used: per round totals only. Both sides' mAP per round are shown too, to check that they
 * did the same work.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { PEERS_DIR, peersAvailable, recordedPeer, runPeerLogged, table } from './peers.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(here, '../..');
const CLI = path.join(ROOT, 'dist/src/cli/main.js');

/** Seconds per stage of one round (or of the setup, round 0). */
type StageSeconds = { readonly [stage in 'source' | 'baseline' | 'extract' | 'clusterSelect' | 'train' | 'evaluate']?: number | undefined };

interface SideResult {
  readonly wallSeconds: number;
  readonly setup: StageSeconds;
  readonly rounds: readonly { readonly round: number; readonly seconds: StageSeconds; readonly mAP?: number | undefined; readonly selected?: number | undefined }[];
  readonly baselineMAP?: number | undefined;
}

function parseArgs(argv: readonly string[]): { config: string; peerJson: string | null; peerLog: string | null; keep: string | null } {
  const get = (flag: string): string | null => {
    const i = argv.indexOf(flag);
    if (i < 0) return null;
    const v = argv[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`${flag} needs a value`);
    return v;
  };
  const known = new Set(['--config', '--peer-json', '--peer-log', '--keep']);
  for (const a of argv) if (a.startsWith('--') && !known.has(a)) throw new Error(`unknown option ${a} (known: ${[...known].join(', ')})`);
  // The environment form lets `npm run bench` reuse a peer run of the session too.
  const peerJson = get('--peer-json') ?? process.env['PUL_E2E_PEER_JSON'] ?? null;
  const peerLog = get('--peer-log') ?? process.env['PUL_E2E_PEER_LOG'] ?? null;
  if ((peerJson === null) !== (peerLog === null)) throw new Error('--peer-json and --peer-log go together (the stdout and stderr of one pul_ref.py run)');
  return { config: get('--config') ?? path.join(ROOT, 'pipelines/fmnist-disjoint.json'), peerJson, peerLog, keep: get('--keep') };
}

function timed(command: string, args: readonly string[], cwd: string): Promise<{ seconds: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'] });
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve({ seconds: (performance.now() - started) / 1000, stdout }) : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`))));
  });
}

interface StageRecord {
  readonly round: number;
  readonly stage: string;
  readonly seconds: number;
  readonly summary: Record<string, unknown>;
}

/** pul's side: `pul run --config … --json` in a scratch folder; stage seconds from the run folder's run.json. */
async function runPul(config: string, out: string): Promise<SideResult> {
  const { seconds, stdout } = await timed(process.execPath, [CLI, 'run', '--config', config, '--out', out, '--name', 'e2e', '--json'], ROOT);
  const { runDir } = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { runDir: string };
  const { completed } = JSON.parse(readFileSync(path.join(runDir, 'run.json'), 'utf8')) as { completed: StageRecord[] };
  const secondsOf = (round: number, stage: string) => completed.find((r) => r.round === round && r.stage === stage)?.seconds;
  const sum = (...v: (number | undefined)[]) => (v.every((x) => x === undefined) ? undefined : v.reduce<number>((s, x) => s + (x ?? 0), 0));
  const roundNumbers = [...new Set(completed.map((r) => r.round).filter((r) => r > 0))].sort((a, b) => a - b);
  const figure = (round: number, stage: string, key: string) => completed.find((r) => r.round === round && r.stage === stage)?.summary[key] as number | undefined;
  return {
    wallSeconds: seconds,
    setup: { source: secondsOf(0, 'source'), baseline: secondsOf(0, 'baseline') },
    baselineMAP: figure(0, 'baseline', 'mAP'),
    rounds: roundNumbers.map((round) => ({
      round,
      seconds: { extract: secondsOf(round, 'extract'), clusterSelect: sum(secondsOf(round, 'cluster'), secondsOf(round, 'select')), train: secondsOf(round, 'train'), evaluate: secondsOf(round, 'evaluate') },
      mAP: figure(round, 'evaluate', 'mAP'),
      selected: figure(round, 'select', 'selected'),
    })),
  };
}

interface PeerRound {
  iter: number;
  mAP?: number;
  selected?: number;
  extract_s?: number;
  kmeans_s?: number;
  train_s?: number;
  seconds?: number;
}

/** pul_ref.py's side, from its final JSON line (stdout) and its per-stage JSON lines (stderr). */
function peerSide(stdout: string, stderr: string, wallSeconds: number): SideResult {
  const final = JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { source_train_s: number; baseline: { mAP: number } };
  const lines = stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  const baseline = lines.find((l) => l['stage'] === 'baseline');
  const logged = lines.filter((l): l is Record<string, unknown> & PeerRound => typeof l['iter'] === 'number');
  // A recorded result has no log: its per-round records hold the totals only.
  const rounds = logged.length > 0 ? logged : (JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { iterations: PeerRound[] }).iterations;
  return {
    wallSeconds,
    setup: { source: final.source_train_s, baseline: baseline?.['eval_s'] as number | undefined },
    baselineMAP: final.baseline.mAP,
    rounds: rounds.map((r) => {
      const parts = [r.extract_s, r.kmeans_s, r.train_s];
      const evaluate = r.seconds !== undefined && parts.every((p) => p !== undefined) ? r.seconds - parts.reduce<number>((s, p) => s + (p ?? 0), 0) : undefined;
      return { round: r.iter, seconds: { extract: r.extract_s, clusterSelect: r.kmeans_s, train: r.train_s, evaluate }, mAP: r.mAP, selected: r.selected };
    }),
  };
}

/** The peer's arguments for a pul config: the disjoint protocol (the default) or fully unsupervised. */
function peerArgs(config: string): string[] {
  const c = JSON.parse(readFileSync(config, 'utf8')) as { name?: string; clustering?: { k?: number }; stop?: { maxRounds?: number } };
  const unsup = (c.name ?? '').includes('unsup');
  return [...(unsup ? ['--unsup'] : []), '--K', String(c.clustering?.k ?? (unsup ? 10 : 5)), '--iters', String(c.stop?.maxRounds ?? 8)];
}

const STAGES = [
  ['extract', 'extract'],
  ['clusterSelect', 'cluster + select'],
  ['train', 'train'],
  ['evaluate', 'evaluate'],
] as const;

function stageTotal(side: SideResult, key: (typeof STAGES)[number][0]): number {
  return side.rounds.reduce((s, r) => s + (r.seconds[key] ?? 0), 0);
}

async function main(): Promise<void> {
  if (!peersAvailable()) throw new Error(`no reference implementations at ${PEERS_DIR} (set PUL_PEERS_DIR)`);
  const args = parseArgs(process.argv.slice(2));
  const out = args.keep ?? mkdtempSync(path.join(os.tmpdir(), 'pul-e2e-'));
  process.stderr.write(`pul run --config ${path.relative(ROOT, args.config)} → ${out}\n`);
  const pul = await runPul(args.config, out);
  if (args.keep === null) rmSync(out, { recursive: true, force: true });

  let peer: SideResult;
  let peerSource: string;
  if (args.peerJson !== null && args.peerLog !== null) {
    const stdout = readFileSync(args.peerJson, 'utf8');
    const total = (JSON.parse(stdout.trim().split('\n').at(-1) ?? '{}') as { total_s: number }).total_s;
    // Recorded runs have no process wall time: total_s (from after Python's imports) is the nearest.
    peer = peerSide(stdout, readFileSync(args.peerLog, 'utf8'), total);
    peerSource = `pul_ref.py run earlier in this session (${args.peerJson}); its total_s excludes Python's start-up and imports`;
  } else if (process.env['PUL_BENCH_RECORDED'] === '1') {
    const recorded = recordedPeer<{ total_s: number }>('pul_default');
    peer = peerSide(JSON.stringify(recorded), '', recorded.total_s);
    peerSource = 'recorded (peers/results/pul_default.json: per-round totals only, another session)';
  } else {
    const peerArgv = peerArgs(args.config);
    process.stderr.write(`PyTorch: pul_ref.py ${peerArgv.join(' ')}\n`);
    const started = performance.now();
    const { result, stderr } = await runPeerLogged<unknown>('pul_ref.py', peerArgv);
    peer = peerSide(JSON.stringify(result), stderr, (performance.now() - started) / 1000);
    peerSource = `measured now (pul_ref.py ${peerArgv.join(' ')})`;
  }

  const ratio = (a: number, b: number) => (b > 0 ? +(a / b).toFixed(2) : '—');
  const rows: (string | number)[][] = [
    ['source training', +(pul.setup.source ?? 0).toFixed(1), +(peer.setup.source ?? 0).toFixed(1), ratio(pul.setup.source ?? 0, peer.setup.source ?? 0)],
    ['baseline evaluation', +(pul.setup.baseline ?? 0).toFixed(1), +(peer.setup.baseline ?? 0).toFixed(1), ratio(pul.setup.baseline ?? 0, peer.setup.baseline ?? 0)],
    ...STAGES.map(([key, label]) => [`${label} (all rounds)`, +stageTotal(pul, key).toFixed(1), +stageTotal(peer, key).toFixed(1), ratio(stageTotal(pul, key), stageTotal(peer, key))]),
  ];
  const perRound = (side: SideResult) => side.rounds.reduce((s, r) => s + STAGES.reduce((t, [k]) => t + (r.seconds[k] ?? 0), 0), 0) / Math.max(side.rounds.length, 1);
  rows.push(['mean round (all stages)', +perRound(pul).toFixed(1), +perRound(peer).toFixed(1), ratio(perRound(pul), perRound(peer))]);
  rows.push([`wall time (${pul.rounds.length} vs ${peer.rounds.length} rounds)`, +pul.wallSeconds.toFixed(1), +peer.wallSeconds.toFixed(1), ratio(pul.wallSeconds, peer.wallSeconds)]);
  process.stdout.write(`\nend to end: ${path.relative(ROOT, args.config)} — pul vs PyTorch (${peerSource})\n`);
  process.stdout.write(`${table(['stage', 'pul s', 'PyTorch s', 'pul / PyTorch'], rows)}\n\n`);

  const n = Math.max(pul.rounds.length, peer.rounds.length);
  const f4 = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(4));
  const mapRows: (string | number)[][] = [['baseline', f4(pul.baselineMAP), f4(peer.baselineMAP), '', '']];
  for (let i = 0; i < n; i++) {
    const a = pul.rounds[i];
    const b = peer.rounds[i];
    mapRows.push([String(i + 1), f4(a?.mAP), f4(b?.mAP), a?.selected ?? '—', b?.selected ?? '—']);
  }
  process.stdout.write(`${table(['round', 'pul mAP', 'PyTorch mAP', 'pul selected', 'PyTorch selected'], mapRows)}\n`);
  if (process.env['PUL_E2E_JSON']) writeFileSync(process.env['PUL_E2E_JSON'], JSON.stringify({ pul, peer, peerSource }, null, 1));
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:e2e failed: ${(err as Error).message}\n`);
  process.exit(1);
});
