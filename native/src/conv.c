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

/* Buffers belong to the calling thread, one slice per worker id (a worker may run on the caller's thread). */
#define SLOT_COLS 2
#define SLOT_FILTER 4
#define SLOT_PARTIAL 5

/* The im2col rows [row0, row0+count) as a count×K matrix: x itself for a pointwise convolution. */
static const float *column_rows(const pul_conv_t *g, const float *x, int row0, int count, float *cols) {
  if (is_pointwise(g)) return x + (size_t)row0 * g->ci;
  im2col(g, x, row0, count, cols);
  return cols;
}

/* ---- forward ---- */
typedef struct {
  const pul_conv_t *g;
  const float *x, *packed_f, *bias;
  int relu;
  float *y, *cols; /* cols: BLOCK_ROWS·K floats per worker */
} fwd_ctx;

static void fwd_task(void *p, int task, int worker) {
  fwd_ctx *c = p;
  const pul_conv_t *g = c->g;
  const int K = taps(g), rows = total_rows(g);
  int row0 = task * BLOCK_ROWS, count = rows - row0 < BLOCK_ROWS ? rows - row0 : BLOCK_ROWS;
  const float *a = column_rows(g, c->x, row0, count, c->cols + (size_t)worker * BLOCK_ROWS * K);
  float *y = c->y + (size_t)row0 * g->co;
  pul_sgemm_packed(count, g->co, K, a, K, 0, c->packed_f, y, g->co);
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
  const int K = taps(g);
  /* the filter is packed once for every block of rows */
  float *packed_f = pul_workspace(SLOT_FILTER, pul_sgemm_packed_b_length(g->co, K));
  pul_sgemm_pack_b(g->co, K, f, g->co, 0, packed_f);
  float *cols = pul_workspace(SLOT_COLS, (size_t)pul_threads() * BLOCK_ROWS * K);
  fwd_ctx c = {g, x, packed_f, bias, relu, y, cols};
  int tasks = (total_rows(g) + BLOCK_ROWS - 1) / BLOCK_ROWS;
  pul_parallel_for(tasks, fwd_task, &c);
}

/* ---- backprop input ---- */
typedef struct {
  const pul_conv_t *g;
  const float *dy, *packed_ft; /* fᵀ packed */
  float *dx, *dcols;           /* dcols: BLOCK_ROWS·K floats per worker */
} bpi_ctx;

static void bpi_task(void *p, int n, int worker) {
  bpi_ctx *c = p;
  const pul_conv_t *g = c->g;
  const int K = taps(g), ci = g->ci, per_image = g->oh * g->ow;
  float *dx = c->dx + (size_t)n * g->h * g->w * ci;
  memset(dx, 0, sizeof(float) * (size_t)g->h * g->w * ci);
  float *dcols = c->dcols + (size_t)worker * BLOCK_ROWS * K;
  for (int r0 = 0; r0 < per_image; r0 += BLOCK_ROWS) {
    int count = per_image - r0 < BLOCK_ROWS ? per_image - r0 : BLOCK_ROWS;
    const float *dy = c->dy + ((size_t)n * per_image + r0) * g->co;
    /* f is [K, co]; dcols = dy · fᵀ */
    pul_sgemm_packed(count, K, g->co, dy, g->co, 0, c->packed_ft, dcols, K);
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
  const int K = taps(g);
  /* fᵀ (co×K) is packed once, not once per image: its transposed gather was a large part of each image's cost */
  float *packed_ft = pul_workspace(SLOT_FILTER, pul_sgemm_packed_b_length(K, g->co));
  pul_sgemm_pack_b(K, g->co, f, g->co, 1, packed_ft);
  float *dcols = pul_workspace(SLOT_COLS, (size_t)pul_threads() * BLOCK_ROWS * K);
  bpi_ctx c = {g, dy, packed_ft, dx, dcols};
  pul_parallel_for(g->n, bpi_task, &c);
}

/* ---- backprop filter ---- */
typedef struct {
  const pul_conv_t *g;
  const float *x, *dy;
  float *partial, *cols; /* per worker: K·co partial sums, FILTER_BLOCK_ROWS·K im2col rows */
  unsigned char used[64];
} bpf_ctx;

static void bpf_task(void *p, int task, int worker) {
  bpf_ctx *c = p;
  const pul_conv_t *g = c->g;
  const int K = taps(g), rows = total_rows(g);
  float *partial = c->partial + (size_t)worker * K * g->co;
  int row0 = task * FILTER_BLOCK_ROWS, count = rows - row0 < FILTER_BLOCK_ROWS ? rows - row0 : FILTER_BLOCK_ROWS;
  const float *a = column_rows(g, c->x, row0, count, c->cols + (size_t)worker * FILTER_BLOCK_ROWS * K);
  /* partial[K, co] (+)= colsᵀ · dy_block: the worker's first block overwrites */
  pul_sgemm(K, g->co, count, a, K, 1, c->dy + (size_t)row0 * g->co, g->co, 0, partial, g->co, c->used[worker]);
  c->used[worker] = 1;
}

void pul_conv2d_backprop_filter(const pul_conv_t *g, const float *x, const float *dy, float *df) {
  const int K = taps(g), workers = pul_threads();
  size_t size = (size_t)K * g->co;
  bpf_ctx c = {g, x, dy, pul_workspace(SLOT_PARTIAL, (size_t)workers * size), pul_workspace(SLOT_COLS, (size_t)workers * FILTER_BLOCK_ROWS * K), {0}};
  int tasks = (total_rows(g) + FILTER_BLOCK_ROWS - 1) / FILTER_BLOCK_ROWS;
  pul_parallel_for(tasks, bpf_task, &c);
  memset(df, 0, size * sizeof(float));
  for (int w = 0; w < 64; w++) {
    if (!c.used[w]) continue;
    const float *partial = c.partial + (size_t)w * size;
    for (size_t i = 0; i < size; i++) df[i] += partial[i];
  }
}
