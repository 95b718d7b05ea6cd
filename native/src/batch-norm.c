/* Training-mode batch norm (+ ReLU) and its gradient on every core (see batch-norm.h). tfjs-layers' own
 * training forward makes ~6 passes over the tensor (moments: mean, x − mean, square, mean; normalise;
 * ReLU) and its backward as many again; here the forward reads x twice and writes y once, the backward
 * reads x and dy twice and writes dx once.
 *
 * Statistics: each task takes a block of rows (≈ 16 KiB of x, at most 256 rows), sums it in float32,
 * then sums (x − m)² around the block's own mean m while the block is in cache; the caller merges the
 * blocks' float64 sums and centred squares in task order (Chan et al.'s pairwise update, written as
 * Σ M2ᵢ + nᵢ(meanᵢ − mean)²). So no catastrophic cancellation (no E[x²] − E[x]²), and the same bits
 * whatever the thread count. The loops run across channels only (each channel is summed over rows in
 * order), so the AVX2 variant computes exactly what the portable one does, 8 channels at a time. */
#include "batch-norm.h"
#include "gemm.h"
#include "parallel.h"
#include <math.h>
#include <stdlib.h>

/* No contraction into FMA on any path: the backward recomputes the forward's ReLU test x·a + b > 0 and
 * must get the same bits, and every instruction-set path must agree. */
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#if defined(__x86_64__) || defined(__i386__)
#define PUL_BN_X86 1
#define AVX2_TARGET __attribute__((target("avx2")))
#endif

/* Rows per statistics task: ≈ 16 KiB of x (the second pass reads it from cache), 8 … 256 rows. */
static int block_rows(int channels) {
  int r = 4096 / channels;
  return r < 8 ? 8 : r > 256 ? 256 : r;
}

/* Rows per element-wise task: ≈ 256 KiB of x. */
static int chunk_rows(int channels) {
  int r = 65536 / channels;
  return r < 1 ? 1 : r;
}

static int tasks_for(int rows, int per) { return (rows + per - 1) / per; }

/* The float32 affine of pul's inference kernel (src/backend/kernels/native-channels.ts, FusedBatchNorm):
 * a = scale / √(variance + eps), b = offset − mean·a. */
static void affine_coefficients(const float *scale, const float *offset, const float *mean, const float *variance, double eps, int channels, float *a,
                                float *b) {
  for (int k = 0; k < channels; k++) {
    a[k] = scale[k] / sqrtf((float)((double)variance[k] + eps));
    b[k] = offset[k] - mean[k] * a[k];
  }
}

/* ---- the per-row loops: portable C, and the same operations 8 channels at a time with AVX2 ---- */
/* acc[k] += x[k] */
static inline void row_sum(float *restrict acc, const float *restrict x, int k, int C) {
  for (; k < C; k++) acc[k] += x[k];
}
/* d = x − m: acc += d, acc2 += d² */
static inline void row_centred(float *restrict acc, float *restrict acc2, const float *restrict x, const float *restrict m, int k, int C) {
  for (; k < C; k++) {
    float d = x[k] - m[k];
    acc[k] += d;
    acc2[k] += d * d;
  }
}
/* y = x·a + b, ReLU'd (NaN stays NaN, as tfjs's relu) */
static inline void row_affine(float *restrict y, const float *restrict x, const float *restrict a, const float *restrict b, int relu, int k, int C) {
  for (; k < C; k++) {
    float z = x[k] * a[k] + b[k];
    y[k] = relu && z < 0 ? 0.0f : z;
  }
}
/* dz = dy where x·a + b > 0 (else 0; all of dy without ReLU): acc1 += dz, acc2 += dz·(x − m) */
static inline void row_grad_stats(float *restrict acc1, float *restrict acc2, const float *restrict x, const float *restrict dy, const float *restrict a,
                                  const float *restrict b, const float *restrict m, int relu, int k, int C) {
  for (; k < C; k++) {
    float z = x[k] * a[k] + b[k], g = dy[k];
    g = relu && !(z > 0) ? 0.0f : g;
    acc1[k] += g;
    acc2[k] += g * (x[k] - m[k]);
  }
}
/* dx = dz·ka + (x − m)·kb + kd */
static inline void row_grad(float *restrict dx, const float *restrict x, const float *restrict dy, const float *restrict a, const float *restrict b,
                            const float *restrict m, const float *restrict ka, const float *restrict kb, const float *restrict kd, int relu, int k, int C) {
  for (; k < C; k++) {
    float z = x[k] * a[k] + b[k], g = dy[k];
    g = relu && !(z > 0) ? 0.0f : g;
    dx[k] = g * ka[k] + (x[k] - m[k]) * kb[k] + kd[k];
  }
}

#ifdef PUL_BN_X86
#include <immintrin.h>
AVX2_TARGET static inline void row_sum_avx2(float *restrict acc, const float *restrict x, int k, int C) {
  for (; k + 8 <= C; k += 8) _mm256_storeu_ps(acc + k, _mm256_add_ps(_mm256_loadu_ps(acc + k), _mm256_loadu_ps(x + k)));
  row_sum(acc, x, k, C);
}
AVX2_TARGET static inline void row_centred_avx2(float *restrict acc, float *restrict acc2, const float *restrict x, const float *restrict m, int k, int C) {
  for (; k + 8 <= C; k += 8) {
    __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + k), _mm256_loadu_ps(m + k));
    _mm256_storeu_ps(acc + k, _mm256_add_ps(_mm256_loadu_ps(acc + k), d));
    _mm256_storeu_ps(acc2 + k, _mm256_add_ps(_mm256_loadu_ps(acc2 + k), _mm256_mul_ps(d, d)));
  }
  row_centred(acc, acc2, x, m, k, C);
}
AVX2_TARGET static inline void row_affine_avx2(float *restrict y, const float *restrict x, const float *restrict a, const float *restrict b, int relu, int k, int C) {
  const __m256 zero = _mm256_setzero_ps();
  for (; k + 8 <= C; k += 8) {
    __m256 z = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(x + k), _mm256_loadu_ps(a + k)), _mm256_loadu_ps(b + k));
    if (relu) z = _mm256_andnot_ps(_mm256_cmp_ps(z, zero, _CMP_LT_OQ), z);
    _mm256_storeu_ps(y + k, z);
  }
  row_affine(y, x, a, b, relu, k, C);
}
/* dy where z > 0 (ordered: a NaN z masks like the scalar !(z > 0)) */
AVX2_TARGET static inline __m256 masked_dy(const float *x, const float *dy, const float *a, const float *b, int relu, int k) {
  __m256 g = _mm256_loadu_ps(dy + k);
  if (!relu) return g;
  __m256 z = _mm256_add_ps(_mm256_mul_ps(_mm256_loadu_ps(x + k), _mm256_loadu_ps(a + k)), _mm256_loadu_ps(b + k));
  return _mm256_and_ps(_mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_GT_OQ), g);
}
AVX2_TARGET static inline void row_grad_stats_avx2(float *restrict acc1, float *restrict acc2, const float *restrict x, const float *restrict dy, const float *restrict a,
                                                   const float *restrict b, const float *restrict m, int relu, int k, int C) {
  for (; k + 8 <= C; k += 8) {
    __m256 g = masked_dy(x, dy, a, b, relu, k);
    _mm256_storeu_ps(acc1 + k, _mm256_add_ps(_mm256_loadu_ps(acc1 + k), g));
    __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + k), _mm256_loadu_ps(m + k));
    _mm256_storeu_ps(acc2 + k, _mm256_add_ps(_mm256_loadu_ps(acc2 + k), _mm256_mul_ps(g, d)));
  }
  row_grad_stats(acc1, acc2, x, dy, a, b, m, relu, k, C);
}
AVX2_TARGET static inline void row_grad_avx2(float *restrict dx, const float *restrict x, const float *restrict dy, const float *restrict a, const float *restrict b,
                                             const float *restrict m, const float *restrict ka, const float *restrict kb, const float *restrict kd, int relu, int k, int C) {
  for (; k + 8 <= C; k += 8) {
    __m256 g = masked_dy(x, dy, a, b, relu, k);
    __m256 d = _mm256_sub_ps(_mm256_loadu_ps(x + k), _mm256_loadu_ps(m + k));
    __m256 v = _mm256_add_ps(_mm256_mul_ps(g, _mm256_loadu_ps(ka + k)), _mm256_mul_ps(d, _mm256_loadu_ps(kb + k)));
    _mm256_storeu_ps(dx + k, _mm256_add_ps(v, _mm256_loadu_ps(kd + k)));
  }
  row_grad(dx, x, dy, a, b, m, ka, kb, kd, relu, k, C);
}
#endif

/* ---- forward: per-block statistics ---- */
typedef struct {
  const float *x;
  int rows, channels, block;
  float *scratch; /* 3 · channels floats per worker */
  double *sum, *m2; /* channels per task */
} stats_ctx;

/* ---- forward: y = x·a + b (ReLU) ---- */
typedef struct {
  const float *x, *a, *b;
  int rows, channels, chunk, relu;
  float *y;
} affine_ctx;

/* ---- backward: per-block Σ dz and Σ dz·(x − mean) ---- */
typedef struct {
  const float *x, *dy, *a, *b, *mean;
  int rows, channels, block, relu;
  float *scratch; /* 2 · channels floats per worker */
  double *s1, *s2;
} grad_stats_ctx;

/* ---- backward: dx = dz·A + (x − mean)·B + D ---- */
typedef struct {
  const float *x, *dy, *a, *b, *mean, *ka, *kb, *kd;
  int rows, channels, chunk, relu;
  float *dx;
} grad_ctx;

/* The tasks, once per set of row loops (SUFFIX: portable, avx2). */
#define DEFINE_TASKS(SUFFIX, ATTR, SUM, CENTRED, AFFINE, GRAD_STATS, GRAD)                                                                   \
  ATTR static void stats_task_##SUFFIX(void *p, int task, int worker) {                                                                        \
    stats_ctx *c = p;                                                                                                                          \
    const int C = c->channels, r0 = task * c->block, n = r0 + c->block < c->rows ? c->block : c->rows - r0;                                   \
    float *acc = c->scratch + (size_t)worker * 3 * C, *acc2 = acc + C, *m = acc2 + C;                                                          \
    double *sum = c->sum + (size_t)task * C, *m2 = c->m2 + (size_t)task * C;                                                                   \
    for (int k = 0; k < C; k++) acc[k] = 0;                                                                                                    \
    for (int r = 0; r < n; r++) SUM(acc, c->x + (size_t)(r0 + r) * C, 0, C);                                                                   \
    for (int k = 0; k < C; k++) {                                                                                                              \
      m[k] = acc[k] / (float)n;                                                                                                                \
      acc[k] = acc2[k] = 0;                                                                                                                    \
    }                                                                                                                                          \
    for (int r = 0; r < n; r++) CENTRED(acc, acc2, c->x + (size_t)(r0 + r) * C, m, 0, C);                                                     \
    for (int k = 0; k < C; k++) {                                                                                                              \
      double d1 = acc[k];                                                                                                                      \
      sum[k] = (double)m[k] * n + d1;                                                                                                          \
      m2[k] = (double)acc2[k] - d1 * d1 / n;                                                                                                   \
    }                                                                                                                                          \
  }                                                                                                                                            \
  ATTR static void affine_task_##SUFFIX(void *p, int task, int worker) {                                                                       \
    (void)worker;                                                                                                                              \
    affine_ctx *c = p;                                                                                                                         \
    const int C = c->channels, r0 = task * c->chunk, r1 = r0 + c->chunk < c->rows ? r0 + c->chunk : c->rows;                                  \
    for (int r = r0; r < r1; r++) AFFINE(c->y + (size_t)r * C, c->x + (size_t)r * C, c->a, c->b, c->relu, 0, C);                              \
  }                                                                                                                                            \
  ATTR static void grad_stats_task_##SUFFIX(void *p, int task, int worker) {                                                                   \
    grad_stats_ctx *c = p;                                                                                                                     \
    const int C = c->channels, r0 = task * c->block, n = r0 + c->block < c->rows ? c->block : c->rows - r0;                                   \
    float *acc1 = c->scratch + (size_t)worker * 2 * C, *acc2 = acc1 + C;                                                                       \
    for (int k = 0; k < C; k++) acc1[k] = acc2[k] = 0;                                                                                         \
    for (int r = r0; r < r0 + n; r++) GRAD_STATS(acc1, acc2, c->x + (size_t)r * C, c->dy + (size_t)r * C, c->a, c->b, c->mean, c->relu, 0, C); \
    for (int k = 0; k < C; k++) {                                                                                                              \
      c->s1[(size_t)task * C + k] = acc1[k];                                                                                                   \
      c->s2[(size_t)task * C + k] = acc2[k];                                                                                                   \
    }                                                                                                                                          \
  }                                                                                                                                            \
  ATTR static void grad_task_##SUFFIX(void *p, int task, int worker) {                                                                         \
    (void)worker;                                                                                                                              \
    grad_ctx *c = p;                                                                                                                           \
    const int C = c->channels, r0 = task * c->chunk, r1 = r0 + c->chunk < c->rows ? r0 + c->chunk : c->rows;                                  \
    for (int r = r0; r < r1; r++)                                                                                                              \
      GRAD(c->dx + (size_t)r * C, c->x + (size_t)r * C, c->dy + (size_t)r * C, c->a, c->b, c->mean, c->ka, c->kb, c->kd, c->relu, 0, C);        \
  }

DEFINE_TASKS(portable, , row_sum, row_centred, row_affine, row_grad_stats, row_grad)
#ifdef PUL_BN_X86
/* AVX-512 CPUs take this one too (PUL_ISA=avx512): the loops are bound by memory, not by vector width */
DEFINE_TASKS(avx2, AVX2_TARGET, row_sum_avx2, row_centred_avx2, row_affine_avx2, row_grad_stats_avx2, row_grad_avx2)
#define PICK(name) (pul_gemm_isa() >= PUL_ISA_AVX2 ? name##_avx2 : name##_portable)
#else
#define PICK(name) name##_portable
#endif

void pul_batch_norm_train(const float *x, int rows, int channels, const float *scale, const float *offset, double eps, int relu, float *y, float *mean,
                          float *variance) {
  const int C = channels, block = block_rows(C), tasks = tasks_for(rows, block);
  double *sum = malloc(sizeof(double) * (size_t)tasks * C * 2), *m2 = sum + (size_t)tasks * C;
  float *scratch = malloc(sizeof(float) * 3 * (size_t)C * pul_threads());
  double *tot = calloc((size_t)C * 2, sizeof(double)), *dev = tot + C;
  float *ab = malloc(sizeof(float) * 2 * (size_t)C);
  stats_ctx s = {x, rows, C, block, scratch, sum, m2};
  pul_parallel_for(tasks, PICK(stats_task), &s);
  for (int t = 0; t < tasks; t++)
    for (int k = 0; k < C; k++) tot[k] += sum[(size_t)t * C + k];
  for (int k = 0; k < C; k++) tot[k] /= rows;
  for (int t = 0; t < tasks; t++) {
    const int n = t == tasks - 1 ? rows - t * block : block;
    for (int k = 0; k < C; k++) {
      double shift = sum[(size_t)t * C + k] / n - tot[k];
      dev[k] += m2[(size_t)t * C + k] + n * shift * shift;
    }
  }
  for (int k = 0; k < C; k++) {
    mean[k] = (float)tot[k];
    variance[k] = dev[k] > 0 ? (float)(dev[k] / rows) : 0.0f;
  }
  affine_coefficients(scale, offset, mean, variance, eps, C, ab, ab + C);
  const int chunk = chunk_rows(C);
  affine_ctx f = {x, ab, ab + C, rows, C, chunk, relu, y};
  pul_parallel_for(tasks_for(rows, chunk), PICK(affine_task), &f);
  free(ab);
  free(tot);
  free(scratch);
  free(sum);
}

void pul_batch_norm_train_grad(const float *x, const float *dy, int rows, int channels, const float *scale, const float *offset, const float *mean,
                               const float *variance, double eps, int relu, float *dx, float *dscale, float *doffset) {
  const int C = channels, block = block_rows(C), tasks = tasks_for(rows, block);
  double *s1 = malloc(sizeof(double) * (size_t)tasks * C * 2), *s2 = s1 + (size_t)tasks * C;
  float *scratch = malloc(sizeof(float) * 2 * (size_t)C * pul_threads());
  float *coef = malloc(sizeof(float) * 5 * (size_t)C), *a = coef, *b = a + C, *ka = b + C, *kb = ka + C, *kd = kb + C;
  affine_coefficients(scale, offset, mean, variance, eps, C, a, b);
  grad_stats_ctx s = {x, dy, a, b, mean, rows, C, block, relu, scratch, s1, s2};
  pul_parallel_for(tasks, PICK(grad_stats_task), &s);
  for (int k = 0; k < C; k++) {
    double t1 = 0, t2 = 0;
    for (int t = 0; t < tasks; t++) {
      t1 += s1[(size_t)t * C + k];
      t2 += s2[(size_t)t * C + k];
    }
    const double r = 1.0 / sqrt((double)variance[k] + eps), g = scale[k];
    dscale[k] = (float)(r * t2);
    doffset[k] = (float)t1;
    ka[k] = (float)(g * r);
    kb[k] = (float)(-g * r * r * r * t2 / rows);
    kd[k] = (float)(-g * r * t1 / rows);
  }
  const int chunk = chunk_rows(C);
  grad_ctx d = {x, dy, a, b, mean, ka, kb, kd, rows, C, chunk, relu, dx};
  pul_parallel_for(tasks_for(rows, chunk), PICK(grad_task), &d);
  free(coef);
  free(scratch);
  free(s1);
}
