/**
 * Access to the reference implementations in ../shared/peers (PyTorch / scikit-learn / numpy on this
 * machine) for benchmarks: run a peer script in the same session (the machines are noisy, so ratios are
 * only meaningful from one run), or fall back to its recorded result. Benchmarks only: tests never
 * depend on ../shared.
 */
import { execFile } from 'node:child_process';
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
/** ../shared/peers beside the repository (dist/bench → repo root → ..). */
export const PEERS_DIR = process.env['PUL_PEERS_DIR'] ?? path.resolve(here, '../../../shared/peers');
const PYTHON = '/usr/bin/python3';

export interface PeerResult<T> {
  readonly value: T;
  /** 'measured now' or where the recorded figure came from. */
  readonly source: string;
}

export function peersAvailable(): boolean {
  return existsSync(path.join(PEERS_DIR, 'README.md'));
}

/** Runs `python3 peers/<script> args…` and parses the one JSON line it prints. */
export async function runPeer<T>(script: string, args: readonly string[], cwd: string = PEERS_DIR): Promise<T> {
  return (await runPeerLogged<T>(script, args, cwd)).result;
}

/** runPeer, also returning the peer's stderr (its progress lines, some of them JSON records). */
export function runPeerLogged<T>(script: string, args: readonly string[], cwd: string = PEERS_DIR): Promise<{ result: T; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [path.isAbsolute(script) ? script : path.join(PEERS_DIR, script), ...args], { cwd, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) {
        reject(new Error(`${script} failed: ${err.message}\n${stderr.slice(-2000)}`));
        return;
      }
      const line = stdout.trim().split('\n').at(-1) ?? '';
      try {
        resolve({ result: JSON.parse(line) as T, stderr });
      } catch {
        reject(new Error(`${script} printed no JSON line: ${line.slice(0, 200)}`));
      }
    });
  });
}

/** The recorded result peers/results/<name>.json. */
export function recordedPeer<T>(name: string): T {
  return JSON.parse(readFileSync(path.join(PEERS_DIR, 'results', `${name}.json`), 'utf8')) as T;
}

/** Runs the peer now when python and the peers folder are there (unless PUL_BENCH_RECORDED=1), else the recorded figure. */
export async function peerFigures<T>(script: string, args: readonly string[], recordedName: string): Promise<PeerResult<T>> {
  if (!peersAvailable()) throw new Error(`no reference implementations at ${PEERS_DIR} (set PUL_PEERS_DIR)`);
  if (process.env['PUL_BENCH_RECORDED'] !== '1' && existsSync(PYTHON)) {
    try {
      return { value: await runPeer<T>(script, args), source: `measured now (${script} ${args.join(' ')})` };
    } catch (err) {
      process.stderr.write(`could not run ${script} now (${(err as Error).message.split('\n')[0]}); using the recorded figures\n`);
    }
  }
  return { value: recordedPeer<T>(recordedName), source: `recorded (peers/results/${recordedName}.json)` };
}

/**
 * A fixed-width table for bench output. With PUL_BENCH_JSON=FILE (set by `npm run bench`) the table is
 * also appended to FILE as one JSON line {header, rows}, so the runner collects every bench's figures.
 */
export function table(header: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const record = process.env['PUL_BENCH_JSON'];
  if (record) appendFileSync(record, `${JSON.stringify({ header, rows: rows.map((r) => r.map((c) => (typeof c === 'number' && !Number.isFinite(c) ? null : c))) })}\n`);
  const cells = [header, ...rows].map((r) => r.map((c) => (typeof c === 'number' ? formatNumber(c) : c)));
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ')).join('\n');
}

function formatNumber(v: number): string {
  if (Number.isInteger(v)) return String(v);
  return Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toFixed(3);
}
