/**
 * npm run bench:eval — pul's whole evaluation from features (distances + ranking + metrics) on the
 * Market-sized synthetic case of ../shared/peers/eval_ref.py (3 368 queries × 15 913 gallery), beside
 * the numpy reference's ranking + metrics alone (its distance matrix is given to it), in the same run;
 * D = 256 and D = 2048. Also checks that the metrics agree to 1e-6. Data are generated into a temp copy
 * of the peers folder (../shared is read-only).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { evaluateFeatures, featureMatrix, selectBackend, type IndexRow } from '../src/index.js';
import { PEERS_DIR, peersAvailable, runPeer, table } from './peers.js';
import { readPeerbin } from './peerbin.js';

interface EvalRef {
  mAP: number;
  mINP: number;
  rank1: number;
  rank5: number;
  rank10: number;
  rank20: number;
  num_valid_q: number;
  elapsed_s: number;
  argsort_s: number;
  loop_s: number;
}

function labelled(feats: Float32Array, pids: Int32Array, camids: Int32Array, dim: number) {
  const index: IndexRow[] = Array.from(pids, (pid, i) => ({ path: `${i}`, pid, camid: camids[i]! }));
  return { features: featureMatrix(pids.length, dim, feats), index };
}

async function main(): Promise<void> {
  if (!peersAvailable()) throw new Error(`bench:eval needs the reference implementations at ${PEERS_DIR}`);
  const info = await selectBackend();
  const work = mkdtempSync(path.join(os.tmpdir(), 'pul-bench-eval-'));
  cpSync(PEERS_DIR, work, { recursive: true });
  const rows: (string | number)[][] = [];
  try {
    for (const dim of [256, 2048]) {
      const file = path.join(work, 'data', `reid_case_Q3368_G15913_D${dim}_s0.bin`);
      if (!existsSync(file)) {
        process.stderr.write(`generating the D=${dim} case …\n`);
        execFileSync('/usr/bin/python3', [path.join(work, 'eval_ref.py'), '--gen', '3368', '15913', String(dim), '0', '--out', file], { stdio: ['ignore', 'ignore', 'inherit'] });
      }
      process.stderr.write(`numpy reference on D=${dim} …\n`);
      const ref = await runPeer<EvalRef>(path.join(work, 'eval_ref.py'), [file, '--repeats', '3'], work);
      const { arrays } = readPeerbin(file);
      const q = labelled(arrays['q_feats']!.data as Float32Array, arrays['q_pids']!.data as Int32Array, arrays['q_camids']!.data as Int32Array, dim);
      const g = labelled(arrays['g_feats']!.data as Float32Array, arrays['g_pids']!.data as Int32Array, arrays['g_camids']!.data as Int32Array, dim);
      delete arrays['distmat']; // pul works from the features
      const times: number[] = [];
      let report = evaluateFeatures(q, g);
      for (let r = 0; r < 3; r++) {
        const t = performance.now();
        report = evaluateFeatures(q, g);
        times.push((performance.now() - t) / 1000);
      }
      const seconds = times.sort((a, b) => a - b)[1]!;
      const diff = Math.max(Math.abs(report.mAP - ref.mAP), Math.abs(report.mINP - ref.mINP), ...[ref.rank1, ref.rank5, ref.rank10, ref.rank20].map((v, i) => Math.abs(report.cmc[i]! - v)));
      rows.push([`D=${dim}`, seconds, ref.elapsed_s, seconds / ref.elapsed_s, report.mAP.toFixed(6), ref.mAP.toFixed(6), report.cmc[0]!.toFixed(6), ref.rank1.toFixed(6), diff.toExponential(1), report.validQueries]);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  const rssMb = process.resourceUsage().maxRSS / 1024;
  process.stdout.write(`pul backend: ${info.backend}; numpy: eval_ref.py measured now (median of 3, ranking + metrics from its distance matrix); pul: median of 3, distances + ranking + metrics from features\n`);
  process.stdout.write(`${table(['case', 'pul s', 'numpy s', 'ratio', 'pul mAP', 'numpy mAP', 'pul rank-1', 'numpy rank-1', 'max |diff|', 'valid q'], rows)}\n`);
  process.stdout.write(`peak RSS of this process: ${rssMb.toFixed(0)} MB (includes the case files it read)\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exitCode = 1;
});
