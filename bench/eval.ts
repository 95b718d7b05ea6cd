/**
 * npm run bench:eval — pul's whole evaluation from features (distances + ranking + metrics) on the
 * Market-sized synthetic case of ../shared/peers/eval_ref.py (3 368 queries × 15 913 gallery), beside
 * the numpy reference's ranking + metrics alone (its distance matrix is given to it), in the same run;
 * D = 256 and D = 2048. Also checks that the metrics agree to 1e-6, both in-process and through
 * `pul eval --json` on feature folders converted from the case. Data are generated into a temp copy of
 * the peers folder (../shared is read-only). Without a working numpy the recorded 5.14 s is used.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { evaluateFeatures, featureMatrix, selectBackend, type IndexRow, type RankReport } from '../src/index.js';
import { PEERS_DIR, peersAvailable, recordedPeer, runPeer, table } from './peers.js';
import { readPeerbin } from './peerbin.js';
import { writeCaseFolders } from './peerbin-to-features.js';

interface EvalRef {
  mAP: number;
  mINP: number;
  rank1: number;
  rank5: number;
  rank10: number;
  rank20: number;
  num_valid_q: number;
  elapsed_s: number;
}

const PYTHON = '/usr/bin/python3';
const CLI = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/cli/main.js');
const TOLERANCE = 1e-6;

function labelled(feats: Float32Array, pids: Int32Array, camids: Int32Array, dim: number) {
  const index: IndexRow[] = Array.from(pids, (pid, i) => ({ path: `${i}`, pid, camid: camids[i]! }));
  return { features: featureMatrix(pids.length, dim, feats), index };
}

const maxDiff = (r: Pick<RankReport, 'mAP' | 'mINP' | 'cmc'>, ref: EvalRef) =>
  Math.max(Math.abs(r.mAP - ref.mAP), Math.abs(r.mINP - ref.mINP), ...[ref.rank1, ref.rank5, ref.rank10, ref.rank20].map((v, i) => Math.abs(r.cmc[i]! - v)));

function numpyWorks(): boolean {
  return existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;
}

/** `pul eval --json` on two feature folders, in a child process, with its own peak RSS (GNU time). */
function cliEval(query: string, gallery: string): { report: RankReport & { seconds: number }; maxRssMb: number | null } {
  const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : null;
  const args = [CLI, 'eval', '--query', query, '--gallery', gallery, '--json'];
  const run = timeBin ? spawnSync(timeBin, ['-f', 'MAXRSS_KB=%M', process.execPath, ...args], { encoding: 'utf8' }) : spawnSync(process.execPath, args, { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`pul eval failed (${run.status}): ${run.stderr}`);
  const kb = /MAXRSS_KB=(\d+)/.exec(run.stderr)?.[1];
  return { report: JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '') as RankReport & { seconds: number }, maxRssMb: kb ? Number(kb) / 1024 : null };
}

async function main(): Promise<void> {
  if (!peersAvailable()) throw new Error(`bench:eval needs the reference implementations at ${PEERS_DIR}`);
  const live = numpyWorks();
  const info = await selectBackend();
  const work = mkdtempSync(path.join(os.tmpdir(), 'pul-bench-eval-'));
  cpSync(PEERS_DIR, work, { recursive: true });
  const rows: (string | number)[][] = [];
  const notes: string[] = [];
  let failed = false;
  try {
    for (const dim of [256, 2048]) {
      const file = path.join(work, 'data', `reid_case_Q3368_G15913_D${dim}_s0.bin`);
      if (!existsSync(file)) {
        if (!live) {
          notes.push(`D=${dim}: no case file and no numpy to generate it; skipped`);
          continue;
        }
        process.stderr.write(`generating the D=${dim} case …\n`);
        execFileSync(PYTHON, [path.join(work, 'eval_ref.py'), '--gen', '3368', '15913', String(dim), '0', '--out', file], { stdio: ['ignore', 'ignore', 'inherit'] });
      }
      let ref: EvalRef;
      let refSource: string;
      if (live) {
        process.stderr.write(`numpy reference on D=${dim} …\n`);
        ref = await runPeer<EvalRef>(path.join(work, 'eval_ref.py'), [file, '--repeats', '3'], work);
        refSource = 'now';
      } else if (dim === 256) {
        ref = recordedPeer<EvalRef>('eval');
        refSource = 'recorded';
        notes.push('numpy not available: the D=256 reference figures are RESULTS.md / results/eval.json (5.14 s on a quiet machine)');
      } else {
        notes.push(`D=${dim}: no recorded reference; skipped`);
        continue;
      }
      const { arrays } = readPeerbin(file);
      delete arrays['distmat']; // pul works from the features
      const q = labelled(arrays['q_feats']!.data as Float32Array, arrays['q_pids']!.data as Int32Array, arrays['q_camids']!.data as Int32Array, dim);
      const g = labelled(arrays['g_feats']!.data as Float32Array, arrays['g_pids']!.data as Int32Array, arrays['g_camids']!.data as Int32Array, dim);
      const times: number[] = [];
      let report = evaluateFeatures(q, g);
      for (let r = 0; r < 3; r++) {
        const t = performance.now();
        report = evaluateFeatures(q, g);
        times.push((performance.now() - t) / 1000);
      }
      const seconds = times.sort((a, b) => a - b)[1]!;
      const diff = maxDiff(report, ref);

      // The interchange path: feature folders → `pul eval --json` (a separate process, as a user runs it).
      const folders = await writeCaseFolders(arrays, path.join(work, `folders-D${dim}`));
      const cli = cliEval(folders.query, folders.gallery);
      const cliDiff = maxDiff(cli.report, ref);
      if (diff > TOLERANCE || cliDiff > TOLERANCE) failed = true;
      rows.push([
        `D=${dim}`, seconds, ref.elapsed_s, refSource, seconds / ref.elapsed_s, report.mAP.toFixed(6), ref.mAP.toFixed(6), report.cmc[0]!.toFixed(6), ref.rank1.toFixed(6),
        report.mINP.toFixed(6), ref.mINP.toFixed(6), diff.toExponential(1), cliDiff.toExponential(1), cli.report.seconds, cli.maxRssMb === null ? '?' : cli.maxRssMb.toFixed(0), `${report.validQueries}/${ref.num_valid_q}`,
      ]);
      rmSync(folders.query, { recursive: true, force: true });
      rmSync(folders.gallery, { recursive: true, force: true });
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const rssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`pul backend: ${info.backend}; numpy: eval_ref.py --repeats 3 (median; ranking + metrics from its distance matrix); pul: median of 3, distances + ranking + metrics from features\n`);
  process.stdout.write(`${table(['case', 'pul s', 'numpy s', 'numpy run', 'ratio', 'pul mAP', 'numpy mAP', 'pul rank-1', 'numpy rank-1', 'pul mINP', 'numpy mINP', 'max |diff|', 'CLI max |diff|', 'CLI s (incl. read)', 'CLI peak MB', 'valid q'], rows)}\n`);
  process.stdout.write(`peak RSS of this bench process: ${rssMb.toFixed(0)} MB (includes the case files it read); CLI peak MB = maxRSS of \`pul eval --json\` on the feature folders\n`);
  for (const note of notes) process.stdout.write(`note: ${note}\n`);
  if (failed) {
    process.stdout.write(`FAIL: a metric differs from the reference by more than ${TOLERANCE}\n`);
    process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
