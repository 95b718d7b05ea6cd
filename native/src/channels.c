/* The per-channel loops of pul's wasm kernels, on every core: row blocks per task, per-worker partial sums. */
#include "channels.h"
#include "parallel.h"
#include <float.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
static double sqrt_d(double v) { return sqrt(v); }

#define ROWS_PER_TASK 2048
#define MAX_WORKERS 64

static int row_tasks(int rows) { return (rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK; }

/* ---- per-channel sums ---- */
typedef struct {
  const float *x;
  int rows, channels;
  double *partial[MAX_WORKERS];
} sum_ctx;

static void sum_task(void *p, int task, int worker) {
  sum_ctx *c = p;
  if (!c->partial[worker]) c->partial[worker] = calloc(c->channels, sizeof(double));
  double *acc = c->partial[worker];
  int r0 = task * ROWS_PER_TASK, r1 = r0 + ROWS_PER_TASK < c->rows ? r0 + ROWS_PER_TASK : c->rows;
  /* float block sums (vectorisable), folded into double per block */
  float *block = calloc(c->channels, sizeof(float));
  for (int r = r0; r < r1; r++) {
    const float *row = c->x + (size_t)r * c->channels;
    for (int k = 0; k < c->channels; k++) block[k] += row[k];
  }
  for (int k = 0; k < c->channels; k++) acc[k] += block[k];
  free(block);
}

void pul_channel_sum(const float *x, int rows, int channels, float scale, float *out) {
  sum_ctx c = {x, rows, channels, {0}};
  pul_parallel_for(row_tasks(rows), sum_task, &c);
  for (int k = 0; k < channels; k++) {
    double s = 0;
    for (int w = 0; w < MAX_WORKERS; w++)
      if (c.partial[w]) s += c.partial[w][k];
    out[k] = (float)(s * scale);
  }
  for (int w = 0; w < MAX_WORKERS; w++) free(c.partial[w]);
}

/* ---- broadcast ---- */
typedef struct {
  const float *values;
  int rows, channels;
  float *out;
} bcast_ctx;

static void bcast_task(void *p, int task, int worker) {
  (void)worker;
  bcast_ctx *c = p;
  int r0 = task * ROWS_PER_TASK, r1 = r0 + ROWS_PER_TASK < c->rows ? r0 + ROWS_PER_TASK : c->rows;
  for (int r = r0; r < r1; r++) memcpy(c->out + (size_t)r * c->channels, c->values, sizeof(float) * c->channels);
}

void pul_broadcast_channels(const float *v, int rows, int channels, float scale, float *out) {
  float *values = malloc(sizeof(float) * channels);
  for (int k = 0; k < channels; k++) values[k] = v[k] * scale;
  bcast_ctx c = {values, rows, channels, out};
  pul_parallel_for(row_tasks(rows), bcast_task, &c);
  free(values);
}

/* ---- per-channel affine: y = x * a[c] + b[c] (batch-norm forward with folded statistics) ---- */
typedef struct {
  const float *x, *a, *b;
  int rows, channels;
  float *y;
} affine_ctx;

static void affine_task(void *p, int task, int worker) {
  (void)worker;
  affine_ctx *c = p;
  int r0 = task * ROWS_PER_TASK, r1 = r0 + ROWS_PER_TASK < c->rows ? r0 + ROWS_PER_TASK : c->rows;
  for (int r = r0; r < r1; r++) {
    const float *in = c->x + (size_t)r * c->channels;
    float *out = c->y + (size_t)r * c->channels;
    for (int k = 0; k < c->channels; k++) out[k] = in[k] * c->a[k] + c->b[k];
  }
}

void pul_channel_affine(const float *x, int rows, int channels, const float *a, const float *b, float *y) {
  affine_ctx c = {x, a, b, rows, channels, y};
  pul_parallel_for(row_tasks(rows), affine_task, &c);
}

/* ---- batch-norm gradient ---- */
typedef struct {
  const float *x, *dy, *mean, *gain;
  int rows, channels;
  float *dx;
  double *s1[MAX_WORKERS], *s2[MAX_WORKERS];
} bn_ctx;

static void bn_task(void *p, int task, int worker) {
  bn_ctx *c = p;
  const int C = c->channels;
  if (!c->s1[worker]) {
    c->s1[worker] = calloc(C, sizeof(double));
    c->s2[worker] = calloc(C, sizeof(double));
  }
  float *b1 = calloc(C, sizeof(float)), *b2 = calloc(C, sizeof(float));
  int r0 = task * ROWS_PER_TASK, r1 = r0 + ROWS_PER_TASK < c->rows ? r0 + ROWS_PER_TASK : c->rows;
  for (int r = r0; r < r1; r++) {
    const float *xr = c->x + (size_t)r * C, *gr = c->dy + (size_t)r * C;
    float *dxr = c->dx + (size_t)r * C;
    for (int k = 0; k < C; k++) {
      float g = gr[k];
      b1[k] += g;
      b2[k] += g * (xr[k] - c->mean[k]);
      dxr[k] = g * c->gain[k];
    }
  }
  for (int k = 0; k < C; k++) {
    c->s1[worker][k] += b1[k];
    c->s2[worker][k] += b2[k];
  }
  free(b1);
  free(b2);
}

void pul_batch_norm_grad(const float *x, const float *dy, const float *mean, const float *variance, const float *scale, float eps,
                         int rows, int channels, float *dx, float *dmean, float *dvariance, float *dscale, float *doffset) {
  float *gain = malloc(sizeof(float) * channels);
  double *r = malloc(sizeof(double) * channels);
  for (int k = 0; k < channels; k++) {
    r[k] = 1.0 / sqrt_d((double)variance[k] + eps);
    gain[k] = (float)(r[k] * (scale ? scale[k] : 1.0f));
  }
  bn_ctx c = {x, dy, mean, gain, rows, channels, dx, {0}, {0}};
  pul_parallel_for(row_tasks(rows), bn_task, &c);
  for (int k = 0; k < channels; k++) {
    double s1 = 0, s2 = 0;
    for (int w = 0; w < MAX_WORKERS; w++)
      if (c.s1[w]) {
        s1 += c.s1[w][k];
        s2 += c.s2[w][k];
      }
    double sc = scale ? scale[k] : 1.0, rk = r[k];
    dmean[k] = (float)(-rk * sc * s1);
    dvariance[k] = (float)(-0.5 * rk * rk * rk * sc * s2);
    dscale[k] = (float)(rk * s2);
    doffset[k] = (float)s1;
  }
  for (int w = 0; w < MAX_WORKERS; w++) {
    free(c.s1[w]);
    free(c.s2[w]);
  }
  free(gain);
  free(r);
}

/* ---- max-pool gradient: one image per task (disjoint parts of dx) ---- */
typedef struct {
  const float *x, *dy;
  int h, w, c, fh, fw, sh, sw, pt, pl, oh, ow;
  float *dx;
} pool_ctx;

static void pool_task(void *p, int n, int worker) {
  (void)worker;
  pool_ctx *q = p;
  const size_t image = (size_t)q->h * q->w * q->c;
  const float *x = q->x + n * image;
  float *dx = q->dx + n * image;
  memset(dx, 0, image * sizeof(float));
  const float *dy = q->dy + (size_t)n * q->oh * q->ow * q->c;
  /* channels innermost (contiguous, vectorisable): per output pixel, the first maximum of each channel's
     window in scan order (y, then x), as the scalar definition */
  /* int32 positions and a branch-free select, so the compiler vectorises the channel loop */
  float *best = malloc(sizeof(float) * q->c);
  int *at = malloc(sizeof(int) * q->c);
  for (int oy = 0; oy < q->oh; oy++) {
    int y0 = oy * q->sh - q->pt, ys = y0 < 0 ? 0 : y0, ye = y0 + q->fh < q->h ? y0 + q->fh : q->h;
    for (int ox = 0; ox < q->ow; ox++, dy += q->c) {
      int x0 = ox * q->sw - q->pl, xs = x0 < 0 ? 0 : x0, xe = x0 + q->fw < q->w ? x0 + q->fw : q->w;
      if (ys >= ye || xs >= xe) continue;
      int base = (ys * q->w + xs) * q->c;
      for (int k = 0; k < q->c; k++) {
        best[k] = x[base + k];
        at[k] = base + k;
      }
      for (int y = ys; y < ye; y++)
        for (int xx = (y == ys ? xs + 1 : xs); xx < xe; xx++) {
          int b = (y * q->w + xx) * q->c;
          const float *restrict px = x + b;
          float *restrict bst = best;
          int *restrict pos = at;
          int k = 0;
#ifdef __SSE2__
          const __m128i lanes = _mm_setr_epi32(0, 1, 2, 3);
          for (; k + 4 <= q->c; k += 4) {
            __m128 v = _mm_loadu_ps(px + k), bv = _mm_loadu_ps(bst + k), more = _mm_cmpgt_ps(v, bv);
            __m128i m = _mm_castps_si128(more), idx = _mm_add_epi32(_mm_set1_epi32(b + k), lanes), p = _mm_loadu_si128((const __m128i *)(pos + k));
            _mm_storeu_ps(bst + k, _mm_or_ps(_mm_and_ps(more, v), _mm_andnot_ps(more, bv)));
            _mm_storeu_si128((__m128i *)(pos + k), _mm_or_si128(_mm_and_si128(m, idx), _mm_andnot_si128(m, p)));
          }
#endif
          for (; k < q->c; k++) {
            float v = px[k], bv = bst[k];
            int p = pos[k], more = v > bv; /* NaN never wins, as before */
            bst[k] = more ? v : bv;
            pos[k] = more ? b + k : p;
          }
        }
      for (int k = 0; k < q->c; k++) dx[at[k]] += dy[k];
    }
  }
  free(best);
  free(at);
}

void pul_max_pool_grad(const float *x, const float *dy, int n, int h, int w, int c, int fh, int fw, int sh, int sw, int pt, int pl,
                       int oh, int ow, float *dx) {
  pool_ctx q = {x, dy, h, w, c, fh, fw, sh, sw, pt, pl, oh, ow, dx};
  pul_parallel_for(n, pool_task, &q);
}

/* ---- max pooling: one image per task; y[c] = the window's maximum, a NaN in it gives NaN ---- */
static void pool_forward_task(void *p, int n, int worker) {
  (void)worker;
  pool_ctx *q = p;
  const float *x = q->x + (size_t)n * q->h * q->w * q->c;
  float *y = q->dx + (size_t)n * q->oh * q->ow * q->c;
  for (int oy = 0; oy < q->oh; oy++) {
    int y0 = oy * q->sh - q->pt, ys = y0 < 0 ? 0 : y0, ye = y0 + q->fh < q->h ? y0 + q->fh : q->h;
    for (int ox = 0; ox < q->ow; ox++, y += q->c) {
      int x0 = ox * q->sw - q->pl, xs = x0 < 0 ? 0 : x0, xe = x0 + q->fw < q->w ? x0 + q->fw : q->w;
      float *restrict m = y;
      for (int k = 0; k < q->c; k++) m[k] = -INFINITY; /* an empty window: −∞, as tfjs's kernels */
      for (int yy = ys; yy < ye; yy++)
        for (int xx = xs; xx < xe; xx++) {
          const float *restrict px = x + ((size_t)yy * q->w + xx) * q->c;
          /* the larger, and NaN once met (v != v): divergence must reach the loss */
          for (int k = 0; k < q->c; k++) m[k] = (px[k] > m[k] || px[k] != px[k]) ? px[k] : m[k];
        }
    }
  }
}

void pul_max_pool(const float *x, int n, int h, int w, int c, int fh, int fw, int sh, int sw, int pt, int pl, int oh, int ow, float *y) {
  pool_ctx q = {x, 0, h, w, c, fh, fw, sh, sw, pt, pl, oh, ow, y};
  pul_parallel_for(n, pool_forward_task, &q);
}

/* ---- element-wise add / sub / mul / square: b whole, one value per channel, or one value ---- */
#define EW_BLOCK 65536

typedef struct {
  int op, mode, channels;
  size_t n;
  const float *a, *b;
  float *out;
} ew_ctx;

/* o[i] = a[i] op b[(i − first) % period]: period 0 means b[i] (a whole b), b already offset to `first` */
static void ew_run(int op, const float *restrict a, const float *restrict b, float *restrict o, size_t count, int period) {
  if (op == PUL_EW_SQUARE) {
    for (size_t i = 0; i < count; i++) o[i] = a[i] * a[i];
  } else if (period == 0) {
    if (op == PUL_EW_ADD) for (size_t i = 0; i < count; i++) o[i] = a[i] + b[i];
    else if (op == PUL_EW_SUB) for (size_t i = 0; i < count; i++) o[i] = a[i] - b[i];
    else for (size_t i = 0; i < count; i++) o[i] = a[i] * b[i];
  } else {
    for (size_t r = 0; r < count; r += (size_t)period, a += period, o += period) {
      if (op == PUL_EW_ADD) for (int k = 0; k < period; k++) o[k] = a[k] + b[k];
      else if (op == PUL_EW_SUB) for (int k = 0; k < period; k++) o[k] = a[k] - b[k];
      else for (int k = 0; k < period; k++) o[k] = a[k] * b[k];
    }
  }
}

static void ew_task(void *p, int task, int worker) {
  (void)worker;
  ew_ctx *c = p;
  if (c->mode == PUL_EW_PER_CHANNEL) {
    /* whole rows of `channels` per task */
    size_t rows = c->n / c->channels, per = EW_BLOCK / c->channels ? EW_BLOCK / c->channels : 1;
    size_t r0 = (size_t)task * per, r1 = r0 + per < rows ? r0 + per : rows;
    ew_run(c->op, c->a + r0 * c->channels, c->b, c->out + r0 * c->channels, (r1 - r0) * c->channels, c->channels);
    return;
  }
  size_t i0 = (size_t)task * EW_BLOCK, i1 = i0 + EW_BLOCK < c->n ? i0 + EW_BLOCK : c->n;
  if (c->mode == PUL_EW_SCALAR && c->op != PUL_EW_SQUARE) {
    const float s = c->b[0];
    const float *restrict a = c->a + i0;
    float *restrict o = c->out + i0;
    if (c->op == PUL_EW_ADD) for (size_t i = 0; i < i1 - i0; i++) o[i] = a[i] + s;
    else if (c->op == PUL_EW_SUB) for (size_t i = 0; i < i1 - i0; i++) o[i] = a[i] - s;
    else for (size_t i = 0; i < i1 - i0; i++) o[i] = a[i] * s;
    return;
  }
  ew_run(c->op, c->a + i0, c->b ? c->b + i0 : 0, c->out + i0, i1 - i0, 0);
}

void pul_elementwise(int op, int mode, const float *a, const float *b, int rows, int channels, float *out) {
  size_t n = (size_t)rows * channels;
  size_t tasks = mode == PUL_EW_PER_CHANNEL ? (rows + (EW_BLOCK / channels ? EW_BLOCK / channels : 1) - 1) / (EW_BLOCK / channels ? EW_BLOCK / channels : 1)
                                            : (n + EW_BLOCK - 1) / EW_BLOCK;
  ew_ctx c = {op, mode, channels, n, a, b, out};
  pul_parallel_for((int)tasks, ew_task, &c);
}

/* ---- SGD with momentum and coupled weight decay, rounded as tfjs's kernels (see channels.h) ---- */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#define NO_CONTRACT
#elif defined(__GNUC__)
#define NO_CONTRACT __attribute__((optimize("fp-contract=off")))
#else
#define NO_CONTRACT
#endif

NO_CONTRACT void pul_sgd_momentum(const float *w, const float *a, const float *g, size_t n, float c, float m, float wd, float *nw, float *na) {
  for (size_t i = 0; i < n; i++) {
    float d = g[i];
    if (wd != 0.0f) {
      float decay = w[i] * wd;
      d = d + decay;
    }
    float ma = m * a[i];
    float acc = ma + d;
    float step = c * acc;
    na[i] = acc;
    nw[i] = step + w[i];
  }
}
