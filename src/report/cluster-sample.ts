/**
 * A sample of a round's clusters for a person to look at: a few clusters with a few images each, their
 * size and purity (when identities are known), the reliable (selected) samples marked, and the points a
 * density method left as noise (cluster −1).
 */
import { Rng } from '../core/random.js';

/** One cluster shown: its id, size, purity and sampled members (feature rows). */
export interface ClusterCard {
  readonly cluster: number;
  readonly size: number;
  /** Share of the members with the cluster's most common identity; null when identities are unknown. */
  readonly purity: number | null;
  readonly members: readonly { readonly row: number; readonly selected: boolean }[];
}

/** The cluster view of one round. */
export interface ClusterView {
  /** Clusters found (noise excluded). */
  readonly k: number;
  readonly rows: number;
  readonly selected: number;
  readonly cards: readonly ClusterCard[];
  /** Rows with cluster −1 and a sample of them. */
  readonly noise: { readonly count: number; readonly members: readonly number[] };
}

export interface ClusterSampleOptions {
  /** Feature rows that were selected as reliable. */
  readonly selected?: ReadonlySet<number>;
  /** Identity of every row, when known (purity). */
  readonly pids?: Int32Array | null;
  /** Clusters shown (default 24) and images per cluster (default 8). */
  readonly clusters?: number;
  readonly perCluster?: number;
  readonly seed?: number;
}

/**
 * A seeded sample of clusters (largest first among those drawn), each with up to `perCluster` members
 * drawn at random; purity = largest identity count / size. Noise rows (−1) are counted apart.
 * @example
 * sampleClusters(Int32Array.of(0, 0, 1, -1), { pids: Int32Array.of(5, 5, 6, 7) }).cards[0]; // { cluster: 0, size: 2, purity: 1, … }
 */
export function sampleClusters(assignment: Int32Array, options: ClusterSampleOptions = {}): ClusterView {
  const rng = new Rng(options.seed ?? 0);
  const selected = options.selected ?? new Set<number>();
  const members = new Map<number, number[]>();
  const noise: number[] = [];
  assignment.forEach((c, row) => {
    if (c < 0) noise.push(row);
    else {
      const list = members.get(c);
      if (list) list.push(row);
      else members.set(c, [row]);
    }
  });
  const ids = [...members.keys()].sort((a, b) => a - b);
  const chosen = draw(ids, options.clusters ?? 24, rng);
  const perCluster = options.perCluster ?? 8;
  const cards = chosen.map((cluster): ClusterCard => {
    const rows = members.get(cluster)!;
    return { cluster, size: rows.length, purity: purity(rows, options.pids ?? null), members: draw(rows, perCluster, rng).sort((a, b) => a - b).map((row) => ({ row, selected: selected.has(row) })) };
  }).sort((a, b) => b.size - a.size || a.cluster - b.cluster);
  return { k: ids.length, rows: assignment.length, selected: selected.size, cards, noise: { count: noise.length, members: draw(noise, 2 * perCluster, rng).sort((a, b) => a - b) } };
}

/** Up to `n` items of `items` without repetition (partial Fisher–Yates), in draw order. */
function draw<T>(items: readonly T[], n: number, rng: Rng): T[] {
  const pool = items.slice();
  const count = Math.min(n, pool.length);
  for (let i = 0; i < count; i++) {
    const j = i + rng.int(pool.length - i);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, count);
}

function purity(rows: readonly number[], pids: Int32Array | null): number | null {
  if (pids === null) return null;
  const counts = new Map<number, number>();
  let best = 0;
  for (const row of rows) {
    const n = (counts.get(pids[row]!) ?? 0) + 1;
    counts.set(pids[row]!, n);
    best = Math.max(best, n);
  }
  return best / rows.length;
}
