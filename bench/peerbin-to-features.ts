/**
 * Bench-side converter: the query and gallery halves of an eval_ref.py case (PEERBIN1: q_feats, g_feats,
 * q_pids, g_pids, q_camids, g_camids) as two pul feature folders (features.npy + index.csv), the
 * interchange format a PyTorch tool would write.
 */
import path from 'node:path';
import { featureMatrix, writeFeatureFolder, type FeatureFolder, type IndexRow } from '../src/index.js';
import type { PeerArray } from './peerbin.js';

function folderOf(arrays: Record<string, PeerArray>, side: 'q' | 'g'): FeatureFolder {
  const feats = arrays[`${side}_feats`];
  const pids = arrays[`${side}_pids`]?.data;
  const camids = arrays[`${side}_camids`]?.data;
  if (!feats || !(pids instanceof Int32Array) || !(camids instanceof Int32Array) || !(feats.data instanceof Float32Array)) {
    throw new Error(`the case has no float32 ${side}_feats with int32 ${side}_pids / ${side}_camids`);
  }
  const [rows, dim] = feats.shape as [number, number];
  const index: IndexRow[] = Array.from(pids, (pid, i) => ({ path: `${side}${i}.jpg`, pid, camid: camids[i]! }));
  return { features: featureMatrix(rows, dim, feats.data), index };
}

/** Writes `<outDir>/query` and `<outDir>/gallery`; returns their paths. */
export async function writeCaseFolders(arrays: Record<string, PeerArray>, outDir: string): Promise<{ query: string; gallery: string }> {
  const query = path.join(outDir, 'query');
  const gallery = path.join(outDir, 'gallery');
  await writeFeatureFolder(query, folderOf(arrays, 'q'));
  await writeFeatureFolder(gallery, folderOf(arrays, 'g'));
  return { query, gallery };
}
