/*
 * One assignment step of pul's k-means with Yinyang bounds, on every core (the algorithm and its
 * invariants: src/clustering/yinyang-assigner.ts). Per block of rows: move the bounds by the centres'
 * drifts, tighten the rows that are not settled with their exact float64 distance, search the groups of
 * centres the bounds cannot rule out, then new labels and bounds. Squared distances in the search are
 * ‖x‖² + ‖c‖² − 2·x·c; the dot products come from a GEMM-style 6×16 AVX2 micro-kernel over each group's
 * centres packed once per call into 16-wide transposed panels, with six rows read in place (broadcast
 * loads: no row is packed or copied). Rows go to the cores in fixed blocks, so results do not depend on
 * the thread count.
 */
#include "kmeans.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "parallel.h"
#if defined(__x86_64__) || defined(__i386__)
#define PUL_X86 1
#include <immintrin.h>
#endif

/* Rows per parallel task: each group's panels are read once per task. */
#define ROWS_PER_TASK 96
#define MR 6
#define NR 16

/* out[MR × NR] = x_r · (panel column j) for 6 rows (pointers may repeat) and one 16-wide panel (d × 16). */

static void micro_scalar(const float *const x[MR], const float *panel, int d, float *out) {
  float acc[MR][NR];
  memset(acc, 0, sizeof acc);
  for (int q = 0; q < d; q++)
    for (int r = 0; r < MR; r++)
      for (int j = 0; j < NR; j++) acc[r][j] += x[r][q] * panel[q * NR + j];
  memcpy(out, acc, sizeof acc);
}

#ifdef PUL_X86
/* Named accumulators, not inlined: otherwise GCC spills accumulators to the stack on every step. */
#define PUL_ROW(r, xr)                              \
  a = _mm256_broadcast_ss((xr) + q);                \
  c##r##0 = _mm256_fmadd_ps(a, b0, c##r##0);        \
  c##r##1 = _mm256_fmadd_ps(a, b1, c##r##1);

__attribute__((target("avx2,fma"), noinline)) static void micro_avx2(const float *const x[MR], const float *panel, int d, float *out) {
  __m256 c00 = _mm256_setzero_ps(), c01 = c00, c10 = c00, c11 = c00, c20 = c00, c21 = c00, c30 = c00, c31 = c00, c40 = c00, c41 = c00, c50 = c00, c51 = c00;
  const float *x0 = x[0], *x1 = x[1], *x2 = x[2], *x3 = x[3], *x4 = x[4], *x5 = x[5];
  for (int q = 0; q < d; q++) {
    __m256 b0 = _mm256_load_ps(panel + q * NR), b1 = _mm256_load_ps(panel + q * NR + 8), a;
    PUL_ROW(0, x0)
    PUL_ROW(1, x1)
    PUL_ROW(2, x2)
    PUL_ROW(3, x3)
    PUL_ROW(4, x4)
    PUL_ROW(5, x5)
  }
  _mm256_storeu_ps(out, c00);
  _mm256_storeu_ps(out + 8, c01);
  _mm256_storeu_ps(out + 16, c10);
  _mm256_storeu_ps(out + 24, c11);
  _mm256_storeu_ps(out + 32, c20);
  _mm256_storeu_ps(out + 40, c21);
  _mm256_storeu_ps(out + 48, c30);
  _mm256_storeu_ps(out + 56, c31);
  _mm256_storeu_ps(out + 64, c40);
  _mm256_storeu_ps(out + 72, c41);
  _mm256_storeu_ps(out + 80, c50);
  _mm256_storeu_ps(out + 88, c51);
}
#undef PUL_ROW
#endif


/* Bit j set when v_j = base + cn[j] − 2·dots[j] (float32) is below thr: the columns that may matter. */

static unsigned candidates_scalar(const float *dots, const float *cn, float base, float thr) {
  unsigned mask = 0;
  for (int j = 0; j < NR; j++)
    if (base + cn[j] - 2.0f * dots[j] < thr) mask |= 1u << j;
  return mask;
}

#ifdef PUL_X86
__attribute__((target("avx2,fma"))) static inline unsigned candidates_avx2(const float *dots, const float *cn, float base, float thr) {
  __m256 b = _mm256_set1_ps(base), t = _mm256_set1_ps(thr), m2 = _mm256_set1_ps(-2.0f);
  __m256 v0 = _mm256_fmadd_ps(m2, _mm256_loadu_ps(dots), _mm256_add_ps(b, _mm256_loadu_ps(cn)));
  __m256 v1 = _mm256_fmadd_ps(m2, _mm256_loadu_ps(dots + 8), _mm256_add_ps(b, _mm256_loadu_ps(cn + 8)));
  return (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(v0, t, _CMP_LT_OQ)) | ((unsigned)_mm256_movemask_ps(_mm256_cmp_ps(v1, t, _CMP_LT_OQ)) << 8);
}
#endif


/* Lower bounds a hair low and upper bounds a hair high: float32 dot products round. */
#define LOW (1 - 1e-6)
#define HIGH (1 + 1e-6)
/* A row that must search more than this share of the centres searches them all (refreshing every bound). */
#define SEARCH_ALL_SHARE 0.6

typedef struct step_ctx step_ctx;
typedef struct minima minima_t;
typedef void (*search_fn)(const step_ctx *ctx, int g, const int32_t *rows, int m, minima_t *found);

struct step_ctx {
  const pul_kmeans_step_t *s;
  search_fn search;
  const float *panels;     /* every group's panels, group after group */
  const size_t *panel_at;  /* first panel (offset in floats) of group g */
  const double *cnorms;    /* per panel column (+∞ on padding), group after group */
  const float *cnorms32;   /* the same in float32, for the candidate filter */
  double slack;            /* float32 rounding allowance of the candidate filter (besides the row's norm) */
  const size_t *norm_at;   /* first panel column of group g */
  const double *group_drift;
  double *work;            /* per task: distances computed */
};

/* Running nearest / second nearest of one (row, group); ties go to the lowest centre index. */
struct minima {
  double best, second;
  int32_t arg;
};

/* Rows rows[0..m) (data row indices) against group g, six at a time; results at found[r]. Compiled twice,
 * for AVX2 (the kernels inline) and for any CPU. */
#define DEFINE_SEARCH_GROUP(NAME, ATTR, KERNEL, CANDIDATES) \
ATTR static void NAME(const step_ctx *ctx, int g, const int32_t *rows, int m, minima_t *found) { \
  const pul_kmeans_step_t *s = ctx->s; \
  const int d = s->d, lo = s->start[g], hi = s->start[g + 1]; \
  float dots[MR * NR]; \
  for (int b = 0; b < m; b += MR) { \
    int count = m - b < MR ? m - b : MR; \
    const float *x[MR]; \
    double xn[MR]; \
    minima_t mins[MR]; \
    for (int r = 0; r < MR; r++) { \
      int32_t i = rows[b + (r < count ? r : count - 1)]; \
      x[r] = s->x + (size_t)i * d; \
      xn[r] = s->xnorms[i]; \
      mins[r] = (minima_t){INFINITY, INFINITY, -1}; \
    } \
    const float *panel = ctx->panels + ctx->panel_at[g]; \
    const double *cn = ctx->cnorms + ctx->norm_at[g]; \
    for (int p = lo; p < hi; p += NR, panel += (size_t)d * NR, cn += NR) { \
      KERNEL(x, panel, d, dots); \
      const float *cn32 = ctx->cnorms32 + (cn - ctx->cnorms); \
      for (int r = 0; r < count; r++) { \
        minima_t *mr = &mins[r]; \
        /* float32 pre-filter with a margin far above its rounding; the survivors are compared in float64 */ \
        unsigned mask = CANDIDATES(dots + r * NR, cn32, (float)xn[r], (float)(mr->second + 1e-5 * xn[r] + ctx->slack)); \
        while (mask) { \
          int j = __builtin_ctz(mask); \
          mask &= mask - 1; \
          /* branch-free top-2 update: which of these comparisons hold is unpredictable */ \
          double v = xn[r] + cn[j] - 2.0 * (double)dots[r * NR + j]; \
          v = v < 0 ? 0 : v; \
          int32_t c = s->order[p + j]; \
          int nearer = (v < mr->best) | ((v == mr->best) & (c < mr->arg)); \
          double displaced = nearer ? mr->best : v; \
          mr->second = displaced < mr->second ? displaced : mr->second; \
          mr->best = nearer ? v : mr->best; \
          mr->arg = nearer ? c : mr->arg; \
        } \
      } \
    } \
    for (int r = 0; r < count; r++) found[b + r] = mins[r]; \
  } \
}

#ifdef PUL_X86
DEFINE_SEARCH_GROUP(search_group_avx2, __attribute__((target("avx2,fma"))), micro_avx2, candidates_avx2)
#endif
DEFINE_SEARCH_GROUP(search_group_generic, , micro_scalar, candidates_scalar)

static search_fn chosen_search(void) {
#ifdef PUL_X86
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return search_group_avx2;
#endif
  return search_group_generic;
}

/* ‖x_i − c_j‖ in float64 (the tightened upper bound). Four independent sums: one would wait on the adder. */
static double exact_distance_generic(const float *x, const double *c, int d) {
  double acc[4] = {0, 0, 0, 0};
  int q = 0;
  for (; q + 4 <= d; q += 4)
    for (int l = 0; l < 4; l++) {
      double v = (double)x[q + l] - c[q + l];
      acc[l] += v * v;
    }
  for (; q < d; q++) acc[0] += ((double)x[q] - c[q]) * ((double)x[q] - c[q]);
  return sqrt((acc[0] + acc[1]) + (acc[2] + acc[3]));
}

#ifdef PUL_X86
__attribute__((target("avx2,fma"))) static double exact_distance_avx2(const float *x, const double *c, int d) {
  __m256d a0 = _mm256_setzero_pd(), a1 = a0;
  int q = 0;
  for (; q + 8 <= d; q += 8) {
    __m256d v0 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + q)), _mm256_loadu_pd(c + q));
    __m256d v1 = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + q + 4)), _mm256_loadu_pd(c + q + 4));
    a0 = _mm256_fmadd_pd(v0, v0, a0);
    a1 = _mm256_fmadd_pd(v1, v1, a1);
  }
  double lanes[4];
  _mm256_storeu_pd(lanes, _mm256_add_pd(a0, a1));
  double acc = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  for (; q < d; q++) acc += ((double)x[q] - c[q]) * ((double)x[q] - c[q]);
  return sqrt(acc);
}
#endif

static double (*exact_distance_fn)(const float *, const double *, int) = exact_distance_generic;

static double exact_distance(const pul_kmeans_step_t *s, int32_t i, int32_t j) {
  return exact_distance_fn(s->x + (size_t)i * s->d, s->centres64 + (size_t)j * s->d, s->d);
}

/* One block of rows: bounds → groups to search → search group by group → new labels and bounds. */
static void step_task(void *p, int task, int worker) {
  (void)worker;
  const step_ctx *ctx = p;
  const pul_kmeans_step_t *s = ctx->s;
  const int t = s->groups, scratch = s->drift == 0;
  int r0 = task * ROWS_PER_TASK, r1 = r0 + ROWS_PER_TASK < s->n ? r0 + ROWS_PER_TASK : s->n;
  int rows = r1 - r0;
  uint8_t *need = calloc((size_t)rows * t, 1);
  minima_t *found = malloc(sizeof(minima_t) * (size_t)rows * t);
  double *exact_old = malloc(sizeof(double) * (size_t)rows);
  int32_t *members = malloc(sizeof(int32_t) * (size_t)rows);
  int *listed = malloc(sizeof(int) * (size_t)rows);
  minima_t *group_found = malloc(sizeof(minima_t) * (size_t)rows);
  uint8_t *open = calloc((size_t)rows, 1);
  double work = 0;
  if (!need || !found || !exact_old || !members || !listed || !group_found || !open) goto done; /* leaves work 0: caller reports */
  for (int r = 0; r < rows; r++) {
    int32_t i = r0 + r;
    double *lower = s->lower + (size_t)i * t;
    if (scratch) {
      open[r] = 1;
      memset(need + (size_t)r * t, 1, t);
      continue;
    }
    int32_t a = s->labels[i];
    s->upper[i] += s->drift[a];
    double lo = INFINITY;
    for (int g = 0; g < t; g++) {
      lower[g] -= ctx->group_drift[g];
      if (lower[g] < lo) lo = lower[g];
    }
    if (s->upper[i] <= lo) continue;
    s->upper[i] = exact_distance(s, i, a);
    if (s->upper[i] <= lo) continue;
    open[r] = 1;
    exact_old[r] = s->upper[i];
    int searched = 0;
    for (int g = 0; g < t; g++)
      if (lower[g] < s->upper[i]) {
        need[(size_t)r * t + g] = 1;
        searched += s->start[g + 1] - s->start[g];
      }
    if (searched > SEARCH_ALL_SHARE * s->start[t]) memset(need + (size_t)r * t, 1, t);
  }
  for (int g = 0; g < t; g++) {
    int m = 0;
    for (int r = 0; r < rows; r++)
      if (need[(size_t)r * t + g]) {
        listed[m] = r;
        members[m++] = r0 + r;
      }
    if (m == 0) continue;
    ctx->search(ctx, g, members, m, group_found);
    for (int q = 0; q < m; q++) found[(size_t)listed[q] * t + g] = group_found[q];
    work += (double)m * (s->start[g + 1] - s->start[g]);
  }
  for (int r = 0; r < rows; r++) {
    if (!open[r]) continue;
    int32_t i = r0 + r, old = s->labels[i], arg = scratch ? -1 : old;
    double best = scratch ? INFINITY : exact_old[r] * exact_old[r];
    const uint8_t *nr = need + (size_t)r * t;
    const minima_t *fr = found + (size_t)r * t;
    for (int g = 0; g < t; g++)
      if (nr[g] && (fr[g].best < best || (fr[g].best == best && fr[g].arg < arg))) {
        best = fr[g].best;
        arg = fr[g].arg;
      }
    s->labels[i] = arg;
    s->upper[i] = !scratch && arg == old ? exact_old[r] : sqrt(best) * HIGH;
    double *lower = s->lower + (size_t)i * t;
    for (int g = 0; g < t; g++) {
      if (nr[g]) lower[g] = sqrt(fr[g].arg == arg ? fr[g].second : fr[g].best) * LOW;
      else if (!scratch && arg != old && s->group_of[old] == g && exact_old[r] < lower[g]) lower[g] = exact_old[r];
    }
  }
done:
  ctx->work[task] = need && found && exact_old && members && listed && group_found && open ? work : -1;
  free(need);
  free(found);
  free(exact_old);
  free(members);
  free(listed);
  free(group_found);
  free(open);
}

double pul_kmeans_step(const pul_kmeans_step_t *s) {
  const int d = s->d, t = s->groups;
  int tasks = (s->n + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
  /* pack: group g's centres as ceil(size / 16) panels of d × 16, zero-padded, padding norms +∞ */
  size_t *panel_at = malloc(sizeof(size_t) * (size_t)t), *norm_at = malloc(sizeof(size_t) * (size_t)t);
  size_t columns = 0;
  for (int g = 0; g < t && panel_at && norm_at; g++) {
    panel_at[g] = columns * d;
    norm_at[g] = columns;
    columns += (size_t)(s->start[g + 1] - s->start[g] + NR - 1) / NR * NR;
  }
  float *panels = aligned_alloc(64, (columns * d * sizeof(float) + 63) / 64 * 64 + 64);
  double *cnorms = malloc(sizeof(double) * (columns + 1));
  float *cnorms32 = malloc(sizeof(float) * (columns + 1));
  double *group_drift = calloc((size_t)t, sizeof(double));
  double *work = calloc((size_t)tasks + 1, sizeof(double));
  double total = -1;
  if (panel_at && norm_at && panels && cnorms && cnorms32 && group_drift && work) {
    memset(panels, 0, columns * d * sizeof(float));
    for (size_t c = 0; c < columns; c++) cnorms[c] = INFINITY;
    for (int g = 0; g < t; g++)
      for (int p = s->start[g]; p < s->start[g + 1]; p++) {
        int local = p - s->start[g];
        float *panel = panels + panel_at[g] + (size_t)(local / NR) * d * NR;
        const float *c = s->centres + (size_t)p * d;
        for (int q = 0; q < d; q++) panel[q * NR + local % NR] = c[q];
        cnorms[norm_at[g] + local] = s->cnorms[p];
      }
    double cmax = 0;
    for (size_t c = 0; c < columns; c++) {
      cnorms32[c] = (float)cnorms[c];
      if (cnorms[c] < INFINITY && cnorms[c] > cmax) cmax = cnorms[c];
    }
    if (s->drift)
      for (int j = 0; j < s->start[t]; j++)
        if (s->drift[j] > group_drift[s->group_of[j]]) group_drift[s->group_of[j]] = s->drift[j];
#ifdef PUL_X86
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) exact_distance_fn = exact_distance_avx2;
#endif
    step_ctx ctx = {s, chosen_search(), panels, panel_at, cnorms, cnorms32, 1e-5 * cmax + 1e-30, norm_at, group_drift, work};
    pul_parallel_for(tasks, step_task, &ctx);
    total = 0;
    for (int k = 0; k < tasks; k++) total = work[k] < 0 || total < 0 ? -1 : total + work[k];
  }
  free(panel_at);
  free(norm_at);
  free(panels);
  free(cnorms);
  free(cnorms32);
  free(group_drift);
  free(work);
  return total;
}

void pul_kmeans_accumulate(const float *x, int n, int d, const int32_t *labels, int32_t *previous, double *sums, double *counts) {
  for (int i = 0; i < n; i++) {
    int32_t a = labels[i], p = previous[i];
    if (a == p) continue;
    const float *xi = x + (size_t)i * d;
    if (p >= 0) {
      double *sp = sums + (size_t)p * d;
      counts[p] -= 1;
      for (int q = 0; q < d; q++) sp[q] -= xi[q];
    }
    double *sa = sums + (size_t)a * d;
    counts[a] += 1;
    for (int q = 0; q < d; q++) sa[q] += xi[q];
    previous[i] = a;
  }
}
