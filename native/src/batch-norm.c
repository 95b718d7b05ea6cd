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

#define INLINE static inline __attribute__((always_inline))

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

/* ---- forward: per-block statistics ---- */
typedef struct {
  const float *x;
  int rows, channels, block;
  float *scratch; /* 3 · channels floats per worker */
  double *sum, *m2; /* channels per task */
} stats_ctx;

INLINE void stats_task(void *p, int task, int worker) {
  stats_ctx *c = p;
  const int C = c->channels, r0 = task * c->block, n = r0 + c->block < c->rows ? c->block : c->rows - r0;
  const float *restrict x = c->x + (size_t)r0 * C;
  float *restrict acc = c->scratch + (size_t)worker * 3 * C, *restrict acc2 = acc + C, *restrict m = acc2 + C;
  double *restrict sum = c->sum + (size_t)task * C, *restrict m2 = c->m2 + (size_t)task * C;
  for (int k = 0; k < C; k++) acc[k] = 0;
  for (int r = 0; r < n; r++) {
    const float *restrict row = x + (size_t)r * C;
    for (int k = 0; k < C; k++) acc[k] += row[k];
  }
  const float fn = (float)n;
  for (int k = 0; k < C; k++) {
    m[k] = acc[k] / fn;
    acc[k] = 0;
    acc2[k] = 0;
  }
  for (int r = 0; r < n; r++) {
    const float *restrict row = x + (size_t)r * C;
    for (int k = 0; k < C; k++) {
      float d = row[k] - m[k];
      acc[k] += d;
      acc2[k] += d * d;
    }
  }
  for (int k = 0; k < C; k++) {
    double d1 = acc[k];
    sum[k] = (double)m[k] * n + d1;
    m2[k] = (double)acc2[k] - d1 * d1 / n;
  }
}

/* ---- forward: y = x·a + b (ReLU) ---- */
typedef struct {
  const float *x, *a, *b;
  int rows, channels, chunk, relu;
  float *y;
} affine_ctx;

INLINE void affine_task(void *p, int task, int worker) {
  (void)worker;
  affine_ctx *c = p;
  const int C = c->channels, r0 = task * c->chunk, r1 = r0 + c->chunk < c->rows ? r0 + c->chunk : c->rows;
  const float *restrict a = c->a, *restrict b = c->b;
  for (int r = r0; r < r1; r++) {
    const float *restrict in = c->x + (size_t)r * C;
    float *restrict out = c->y + (size_t)r * C;
    if (c->relu) {
      for (int k = 0; k < C; k++) {
        float z = in[k] * a[k] + b[k];
        out[k] = z < 0 ? 0.0f : z; /* NaN stays NaN, as tfjs's relu */
      }
    } else {
      for (int k = 0; k < C; k++) out[k] = in[k] * a[k] + b[k];
    }
  }
}

/* ---- backward: per-block Σ dz and Σ dz·(x − mean) ---- */
typedef struct {
  const float *x, *dy, *a, *b, *mean;
  int rows, channels, block, relu;
  float *scratch; /* 2 · channels floats per worker */
  double *s1, *s2;
} grad_stats_ctx;

INLINE void grad_stats_task(void *p, int task, int worker) {
  grad_stats_ctx *c = p;
  const int C = c->channels, r0 = task * c->block, n = r0 + c->block < c->rows ? c->block : c->rows - r0;
  const float *restrict a = c->a, *restrict b = c->b, *restrict m = c->mean;
  float *restrict acc1 = c->scratch + (size_t)worker * 2 * C, *restrict acc2 = acc1 + C;
  for (int k = 0; k < C; k++) acc1[k] = acc2[k] = 0;
  for (int r = 0; r < n; r++) {
    const float *restrict xr = c->x + (size_t)(r0 + r) * C, *restrict gr = c->dy + (size_t)(r0 + r) * C;
    if (c->relu) {
      for (int k = 0; k < C; k++) {
        float z = xr[k] * a[k] + b[k];
        float g = z > 0 ? gr[k] : 0.0f;
        acc1[k] += g;
        acc2[k] += g * (xr[k] - m[k]);
      }
    } else {
      for (int k = 0; k < C; k++) {
        float g = gr[k];
        acc1[k] += g;
        acc2[k] += g * (xr[k] - m[k]);
      }
    }
  }
  double *restrict s1 = c->s1 + (size_t)task * C, *restrict s2 = c->s2 + (size_t)task * C;
  for (int k = 0; k < C; k++) {
    s1[k] = acc1[k];
    s2[k] = acc2[k];
  }
}

/* ---- backward: dx = dz·A + (x − mean)·B + D ---- */
typedef struct {
  const float *x, *dy, *a, *b, *mean, *ka, *kb, *kd;
  int rows, channels, chunk, relu;
  float *dx;
} grad_ctx;

INLINE void grad_task(void *p, int task, int worker) {
  (void)worker;
  grad_ctx *c = p;
  const int C = c->channels, r0 = task * c->chunk, r1 = r0 + c->chunk < c->rows ? r0 + c->chunk : c->rows;
  const float *restrict a = c->a, *restrict b = c->b, *restrict m = c->mean, *restrict ka = c->ka, *restrict kb = c->kb, *restrict kd = c->kd;
  for (int r = r0; r < r1; r++) {
    const float *restrict xr = c->x + (size_t)r * C, *restrict gr = c->dy + (size_t)r * C;
    float *restrict out = c->dx + (size_t)r * C;
    if (c->relu) {
      for (int k = 0; k < C; k++) {
        float z = xr[k] * a[k] + b[k];
        float g = z > 0 ? gr[k] : 0.0f;
        out[k] = g * ka[k] + (xr[k] - m[k]) * kb[k] + kd[k];
      }
    } else {
      for (int k = 0; k < C; k++) out[k] = gr[k] * ka[k] + (xr[k] - m[k]) * kb[k] + kd[k];
    }
  }
}

/* Each task in a portable and an AVX2 build of the same source (the AVX2 one also runs on AVX-512 CPUs). */
#define TASK_VARIANTS(name)                                                          \
  static void name##_portable(void *p, int task, int worker) { name(p, task, worker); } \
  VARIANT_AVX2(name)
#ifdef PUL_BN_X86
#define VARIANT_AVX2(name) \
  AVX2_TARGET static void name##_avx2(void *p, int task, int worker) { name(p, task, worker); }
#define PICK(name) (pul_gemm_isa() >= PUL_ISA_AVX2 ? name##_avx2 : name##_portable)
#else
#define VARIANT_AVX2(name)
#define PICK(name) name##_portable
#endif

TASK_VARIANTS(stats_task)
TASK_VARIANTS(affine_task)
TASK_VARIANTS(grad_stats_task)
TASK_VARIANTS(grad_task)

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
