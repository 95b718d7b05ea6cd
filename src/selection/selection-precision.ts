/**
 * Selection precision when true identities are known (PROTOCOLS.md): the share of selected samples whose
 * pid is the majority pid of their pseudo-cluster, the majority taken over the cluster's selected members
 * (the labels training will see). Ties go to the smaller pid.
 */
import type { Selection } from './selection.js';

/** NaN when nothing is selected. `pids[i]`: true pid of feature row i. */
export function selectionPrecision(selection: Pick<Selection, 'indices' | 'labels'>, pids: ArrayLike<number>): number {
  const byCluster = new Map<number, Map<number, number>>();
  for (let s = 0; s < selection.indices.length; s++) {
    const label = selection.labels[s]!;
    const pid = pids[selection.indices[s]!]!;
    let counts = byCluster.get(label);
    if (!counts) byCluster.set(label, (counts = new Map<number, number>()));
    counts.set(pid, (counts.get(pid) ?? 0) + 1);
  }
  let correct = 0;
  for (const counts of byCluster.values()) {
    let best = -1;
    let bestPid = Infinity;
    for (const [pid, c] of counts) if (c > best || (c === best && pid < bestPid)) [best, bestPid] = [c, pid];
    correct += best;
  }
  return selection.indices.length === 0 ? NaN : correct / selection.indices.length;
}
