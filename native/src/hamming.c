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

int pul_hamming(const uint64_t *q, int nq, const uint64_t *g, int ng, int words, float *out, int path) {
  if (path == PUL_HAMMING_AUTO) path = pul_hamming_best();
  if (path < 0 || path > PUL_HAMMING_AVX512 || !(pul_hamming_paths() & (1 << path))) return -1;
  row_fn row = row_portable;
#ifdef PUL_X86
  if (path == PUL_HAMMING_POPCNT) row = row_popcnt;
  if (path == PUL_HAMMING_AVX512) row = row_avx512;
#endif
  hamming_ctx ctx = {q, g, nq, ng, words, out, row};
  pul_parallel_for((nq + ROWS_PER_TASK - 1) / ROWS_PER_TASK, hamming_task, &ctx);
  return 0;
}
