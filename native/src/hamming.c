/*
 * Hamming distances between packed binary codes, for pul eval on hash codes: XOR, then popcount of
 * 64-bit words. Three paths, chosen at run time: AVX-512 VPOPCNTDQ (eight gallery rows per vector),
 * the scalar POPCNT instruction, and a portable bit-twiddling popcount for any CPU. All three give
 * the same integers; distances are written as float32 (exact up to 2^24 bits) so that the ranking
 * code shared with float features reads them. Query rows go to the cores in fixed blocks.
 */
#include "hamming.h"
#include "parallel.h"
#if defined(__x86_64__) || defined(__i386__)
#define PUL_X86 1
#include <immintrin.h>
#endif

/* Query rows per parallel task. */
#define ROWS_PER_TASK 16

typedef void (*row_fn)(const uint64_t *q, const uint64_t *g, int ng, int words, float *out);

/* SWAR popcount (Hacker's Delight 5-2): no instruction beyond plain 64-bit arithmetic. */
static inline int popcount_portable(uint64_t x) {
  x = x - ((x >> 1) & 0x5555555555555555ULL);
  x = (x & 0x3333333333333333ULL) + ((x >> 2) & 0x3333333333333333ULL);
  x = (x + (x >> 4)) & 0x0f0f0f0f0f0f0f0fULL;
  return (int)((x * 0x0101010101010101ULL) >> 56);
}

static void row_portable(const uint64_t *q, const uint64_t *g, int ng, int words, float *out) {
  for (int j = 0; j < ng; j++) {
    const uint64_t *gj = g + (size_t)j * words;
    int d = 0;
    for (int w = 0; w < words; w++) d += popcount_portable(q[w] ^ gj[w]);
    out[j] = (float)d;
  }
}

#ifdef PUL_X86
__attribute__((target("popcnt"))) static void row_popcnt(const uint64_t *q, const uint64_t *g, int ng, int words, float *out) {
  if (words == 1) {
    const uint64_t q0 = q[0];
    for (int j = 0; j < ng; j++) out[j] = (float)__builtin_popcountll(q0 ^ g[j]);
    return;
  }
  for (int j = 0; j < ng; j++) {
    const uint64_t *gj = g + (size_t)j * words;
    int d = 0;
    for (int w = 0; w < words; w++) d += __builtin_popcountll(q[w] ^ gj[w]);
    out[j] = (float)d;
  }
}

/* Eight gallery rows at a time: word w of rows j..j+7 (contiguous when words = 1, else gathered at stride `words`). */
__attribute__((target("avx512f,avx512vpopcntdq,popcnt"))) static void row_avx512(const uint64_t *q, const uint64_t *g, int ng, int words, float *out) {
  const long long W = words;
  const __m512i stride = _mm512_set_epi64(7 * W, 6 * W, 5 * W, 4 * W, 3 * W, 2 * W, W, 0);
  int j = 0;
  for (; j + 8 <= ng; j += 8) {
    const uint64_t *gj = g + (size_t)j * words;
    __m512i acc = _mm512_setzero_si512();
    for (int w = 0; w < words; w++) {
      __m512i rows = words == 1 ? _mm512_loadu_si512((const void *)gj) : _mm512_i64gather_epi64(stride, (const void *)(gj + w), 8);
      acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(_mm512_xor_si512(rows, _mm512_set1_epi64((long long)q[w]))));
    }
    _mm256_storeu_ps(out + j, _mm256_cvtepi32_ps(_mm512_cvtepi64_epi32(acc)));
  }
  if (j < ng) row_popcnt(q, g + (size_t)j * words, ng - j, words, out + j);
}
#endif

int pul_hamming_paths(void) {
  int paths = 1 << PUL_HAMMING_PORTABLE;
#ifdef PUL_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("popcnt")) paths |= 1 << PUL_HAMMING_POPCNT;
  if (__builtin_cpu_supports("popcnt") && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vpopcntdq")) paths |= 1 << PUL_HAMMING_AVX512;
#endif
  return paths;
}

int pul_hamming_best(void) {
  int paths = pul_hamming_paths();
  return paths & (1 << PUL_HAMMING_AVX512) ? PUL_HAMMING_AVX512 : paths & (1 << PUL_HAMMING_POPCNT) ? PUL_HAMMING_POPCNT : PUL_HAMMING_PORTABLE;
}

typedef struct {
  const uint64_t *q, *g;
  int nq, ng, words;
  float *out;
  row_fn row;
} hamming_ctx;

static void hamming_task(void *arg, int task, int worker) {
  (void)worker;
  const hamming_ctx *c = arg;
  int end = (task + 1) * ROWS_PER_TASK < c->nq ? (task + 1) * ROWS_PER_TASK : c->nq;
  for (int i = task * ROWS_PER_TASK; i < end; i++) c->row(c->q + (size_t)i * c->words, c->g, c->ng, c->words, c->out + (size_t)i * c->ng);
}

/* The row kernel of a path, or 0 when it does not run here. */
static row_fn row_for(int path) {
  if (path == PUL_HAMMING_AUTO) path = pul_hamming_best();
  if (path < 0 || path > PUL_HAMMING_AVX512 || !(pul_hamming_paths() & (1 << path))) return 0;
#ifdef PUL_X86
  if (path == PUL_HAMMING_POPCNT) return row_popcnt;
  if (path == PUL_HAMMING_AVX512) return row_avx512;
#endif
  return row_portable;
}

int pul_hamming(const uint64_t *q, int nq, const uint64_t *g, int ng, int words, float *out, int path) {
  row_fn row = row_for(path);
  if (row == 0) return -1;
  hamming_ctx ctx = {q, g, nq, ng, words, out, row};
  pul_parallel_for((nq + ROWS_PER_TASK - 1) / ROWS_PER_TASK, hamming_task, &ctx);
  return 0;
}

/* Gallery rows per chunk of the fused ranking: their distances stay in L1. */
#define RANK_CHUNK 512

typedef struct {
  const pul_hamming_rank_t *r;
  row_fn row;
} rank_ctx;

static void rank_task(void *arg, int task, int worker) {
  (void)worker;
  const rank_ctx *c = arg;
  const pul_hamming_rank_t *r = c->r;
  float dist[RANK_CHUNK];
  int end = (task + 1) * ROWS_PER_TASK < r->nq ? (task + 1) * ROWS_PER_TASK : r->nq;
  for (int i = task * ROWS_PER_TASK; i < end; i++) {
    int32_t *count = r->counts + (size_t)i * r->bins;
    for (int d = 0; d < r->bins; d++) count[d] = 0;
    const int32_t qp = r->qpids[i], qc = r->qcams[i];
    int m = r->offsets[i];
    const int last = r->offsets[i + 1];
    if (qp < 0 || m == last) continue;
    const uint64_t *q = r->q + (size_t)i * r->words;
    for (int j0 = 0; j0 < r->ng; j0 += RANK_CHUNK) {
      int n = r->ng - j0 < RANK_CHUNK ? r->ng - j0 : RANK_CHUNK;
      c->row(q, r->g + (size_t)j0 * r->words, n, r->words, dist);
      for (int k = 0; k < n; k++) {
        const int j = j0 + k, d = (int)dist[k];
        const int32_t gp = r->gpids[j];
        if (gp == qp) {
          if ((!r->remove_same_camera || r->gcams[j] != qc) && m < last) {
            r->match_dist[m] = d;
            r->equal_before[m++] = count[d];
          }
        } else if (gp != -1) {
          count[d]++;
        }
      }
    }
  }
}

int pul_hamming_rank(const pul_hamming_rank_t *r, int path) {
  row_fn row = row_for(path);
  if (row == 0) return -1;
  rank_ctx ctx = {r, row};
  pul_parallel_for((r->nq + ROWS_PER_TASK - 1) / ROWS_PER_TASK, rank_task, &ctx);
  return 0;
}
