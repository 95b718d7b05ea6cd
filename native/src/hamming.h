/* Hamming distances between packed binary codes (src/features/binary-codes.ts: bit j of a code is bit j & 63 of 64-bit word j >> 6). */
#ifndef PUL_HAMMING_H
#define PUL_HAMMING_H
#include <stdint.h>

/* Kernel paths; PUL_HAMMING_AUTO picks the fastest the CPU has. */
enum { PUL_HAMMING_AUTO = -1, PUL_HAMMING_PORTABLE = 0, PUL_HAMMING_POPCNT = 1, PUL_HAMMING_AVX512 = 2 };

/* Bit p set when path p runs on this CPU (the portable path always does). */
int pul_hamming_paths(void);
/* The path PUL_HAMMING_AUTO takes here: the highest that runs. */
int pul_hamming_best(void);
/* out[i·ng + j] = popcount(q_i XOR g_j) over `words` 64-bit words per row, on every core; 0, or −1 when `path` does not run here. */
int pul_hamming(const uint64_t *q, int nq, const uint64_t *g, int ng, int words, float *out, int path);

/*
 * Ranking by counting, fused with the distances (src/evaluation/rank.ts addCountedQuery): for each query i
 * with qpids[i] ≥ 0, counts[i·bins + d] = valid non-matches (gallery pid ≠ qpids[i] and ≠ −1) at distance
 * d, and for each true match (gallery pid = qpids[i], camera ≠ qcams[i] when remove_same_camera), in
 * gallery order, match_dist[offsets[i] + k] = its distance and equal_before[…] = the valid non-matches at
 * that distance met before it. offsets[i + 1] − offsets[i] = query i's true matches (the caller counts them).
 */
typedef struct {
  const uint64_t *q, *g;
  int nq, ng, words, bins;
  const int32_t *gpids, *gcams, *qpids, *qcams;
  int remove_same_camera;
  int32_t *counts;
  const int32_t *offsets;
  int32_t *match_dist, *equal_before;
} pul_hamming_rank_t;

/* 0, or −1 when `path` does not run here. */
int pul_hamming_rank(const pul_hamming_rank_t *r, int path);
#endif
