/*
 * Convolutions as GEMMs over blocks of output pixels ("rows"), each block's im2col built in a worker's
 * own buffer, so both the gathering and the multiplication run on every core:
 *   forward:         y[rows, co]  = cols[rows, K] · f[K, co]             (K = kh·kw·ci)
 *   backprop input:  dcols[rows, K] = dy[rows, co] · fᵀ, scattered back (col2im); one image per task,
 *                    so tasks write disjoint parts of dx
 *   backprop filter: df[K, co] = Σ colsᵀ[K, rows] · dy[rows, co]; each worker sums into its own df,
 *                    added up at the end
 */
#include "conv.h"
#include "gemm.h"
#include "parallel.h"
#include <stdlib.h>
#include <string.h>

#define BLOCK_ROWS 240
/* The filter gradient accumulates a K×co block per task: larger blocks amortise that traffic. */
#define FILTER_BLOCK_ROWS 960

static int total_rows(const pul_conv_t *g) { return g->n * g->oh * g->ow; }
static int taps(const pul_conv_t *g) { return g->kh * g->kw * g->ci; }
static int is_pointwise(const pul_conv_t *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0;
}

/* cols[r, (ky·kw+kx)·ci + c] for output rows [row0, row0+count); zero outside the input. */
static void im2col(const pul_conv_t *g, const float *x, int row0, int count, float *cols) {
  const int K = taps(g), ci = g->ci;
  for (int r = 0; r < count; r++) {
    int row = row0 + r;
    int ox = row % g->ow, t = row / g->ow, oy = t % g->oh, n = t / g->oh;
    float *dst = cols + (size_t)r * K;
    for (int ky = 0; ky < g->kh; ky++) {
      int iy = oy * g->sh - g->pt + ky;
      for (int kx = 0; kx < g->kw; kx++, dst += ci) {
        int ix = ox * g->sw - g->pl + kx;
        if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) memset(dst, 0, sizeof(float) * ci);
        else memcpy(dst, x + (((size_t)n * g->h + iy) * g->w + ix) * ci, sizeof(float) * ci);
      }
    }
  }
}

/* One growable buffer per worker. */
typedef struct {
  float *buf[64];
  size_t cap[64];
} scratch_t;

static float *scratch(scratch_t *s, int worker, size_t need) {
  if (s->cap[worker] < need) {
    free(s->buf[worker]);
    s->buf[worker] = malloc(need * sizeof(float));
    s->cap[worker] = need;
  }
  return s->buf[worker];
}

static void free_scratch(scratch_t *s) {
  for (int i = 0; i < 64; i++) free(s->buf[i]);
}

/* The im2col rows [row0, row0+count) as a count×K matrix: x itself for a pointwise convolution. */
static const float *column_rows(const pul_conv_t *g, const float *x, int row0, int count, scratch_t *s, int worker) {
  if (is_pointwise(g)) return x + (size_t)row0 * g->ci;
  float *cols = scratch(s, worker, (size_t)count * taps(g));
  im2col(g, x, row0, count, cols);
  return cols;
}

/* ---- forward ---- */
typedef struct {
  const pul_conv_t *g;
  const float *x, *f, *bias;
  int relu;
  float *y;
  scratch_t scratch;
} fwd_ctx;

static void fwd_task(void *p, int task, int worker) {
  fwd_ctx *c = p;
  const pul_conv_t *g = c->g;
  const int K = taps(g), rows = total_rows(g);
  int row0 = task * BLOCK_ROWS, count = rows - row0 < BLOCK_ROWS ? rows - row0 : BLOCK_ROWS;
  const float *a = column_rows(g, c->x, row0, count, &c->scratch, worker);
  float *y = c->y + (size_t)row0 * g->co;
  pul_sgemm(count, g->co, K, a, K, 0, c->f, g->co, 0, y, g->co, 0);
  if (c->bias || c->relu) {
    for (int r = 0; r < count; r++) {
      float *yr = y + (size_t)r * g->co;
      if (c->bias)
        for (int j = 0; j < g->co; j++) yr[j] += c->bias[j];
      if (c->relu)
        for (int j = 0; j < g->co; j++) yr[j] = yr[j] < 0 ? 0 : yr[j]; /* NaN stays NaN: divergence must show */
    }
  }
}

void pul_conv2d(const pul_conv_t *g, const float *x, const float *f, const float *bias, int relu, float *y) {
  fwd_ctx c = {g, x, f, bias, relu, y, {{0}, {0}}};
  int tasks = (total_rows(g) + BLOCK_ROWS - 1) / BLOCK_ROWS;
  pul_parallel_for(tasks, fwd_task, &c);
  free_scratch(&c.scratch);
}

/* ---- backprop input ---- */
typedef struct {
  const pul_conv_t *g;
  const float *dy, *f;
  float *dx;
  scratch_t scratch;
} bpi_ctx;

static void bpi_task(void *p, int n, int worker) {
  bpi_ctx *c = p;
  const pul_conv_t *g = c->g;
  const int K = taps(g), ci = g->ci, per_image = g->oh * g->ow;
  float *dx = c->dx + (size_t)n * g->h * g->w * ci;
  memset(dx, 0, sizeof(float) * (size_t)g->h * g->w * ci);
  float *dcols = scratch(&c->scratch, worker, (size_t)BLOCK_ROWS * K);
  for (int r0 = 0; r0 < per_image; r0 += BLOCK_ROWS) {
    int count = per_image - r0 < BLOCK_ROWS ? per_image - r0 : BLOCK_ROWS;
    const float *dy = c->dy + ((size_t)n * per_image + r0) * g->co;
    /* f is [K, co]; dcols = dy · fᵀ */
    pul_sgemm(count, K, g->co, dy, g->co, 0, c->f, g->co, 1, dcols, K, 0);
    for (int r = 0; r < count; r++) {
      int q = r0 + r, ox = q % g->ow, oy = q / g->ow;
      const float *src = dcols + (size_t)r * K;
      for (int ky = 0; ky < g->kh; ky++) {
        int iy = oy * g->sh - g->pt + ky;
        for (int kx = 0; kx < g->kw; kx++, src += ci) {
          int ix = ox * g->sw - g->pl + kx;
          if (iy < 0 || iy >= g->h || ix < 0 || ix >= g->w) continue;
          float *d = dx + ((size_t)iy * g->w + ix) * ci;
          for (int k = 0; k < ci; k++) d[k] += src[k];
        }
      }
    }
  }
}

void pul_conv2d_backprop_input(const pul_conv_t *g, const float *dy, const float *f, float *dx) {
  bpi_ctx c = {g, dy, f, dx, {{0}, {0}}};
  pul_parallel_for(g->n, bpi_task, &c);
  free_scratch(&c.scratch);
}

/* ---- backprop filter ---- */
typedef struct {
  const pul_conv_t *g;
  const float *x, *dy;
  float *partial[64];
  scratch_t scratch;
} bpf_ctx;

static void bpf_task(void *p, int task, int worker) {
  bpf_ctx *c = p;
  const pul_conv_t *g = c->g;
  const int K = taps(g), rows = total_rows(g);
  if (!c->partial[worker]) c->partial[worker] = calloc((size_t)K * g->co, sizeof(float));
  int row0 = task * FILTER_BLOCK_ROWS, count = rows - row0 < FILTER_BLOCK_ROWS ? rows - row0 : FILTER_BLOCK_ROWS;
  const float *a = column_rows(g, c->x, row0, count, &c->scratch, worker);
  /* partial[K, co] += colsᵀ · dy_block */
  pul_sgemm(K, g->co, count, a, K, 1, c->dy + (size_t)row0 * g->co, g->co, 0, c->partial[worker], g->co, 1);
}

void pul_conv2d_backprop_filter(const pul_conv_t *g, const float *x, const float *dy, float *df) {
  bpf_ctx c = {g, x, dy, {0}, {{0}, {0}}};
  int tasks = (total_rows(g) + FILTER_BLOCK_ROWS - 1) / FILTER_BLOCK_ROWS;
  pul_parallel_for(tasks, bpf_task, &c);
  size_t size = (size_t)taps(g) * g->co;
  memset(df, 0, size * sizeof(float));
  for (int w = 0; w < 64; w++) {
    if (!c.partial[w]) continue;
    for (size_t i = 0; i < size; i++) df[i] += c.partial[w][i];
    free(c.partial[w]);
  }
  free_scratch(&c.scratch);
}
