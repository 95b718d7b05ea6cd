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
#if defined(__x86_64__) || defined(__i386__)
#define PUL_X86 1
#include <immintrin.h>
#endif

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


/* ---- direct kernels for few taps (a first layer's 1–3 input channels): no im2col, no packing ----
 * With K = kh·kw·ci ≤ DIRECT_MAX_TAPS, the GEMM's packing and a 9-long inner loop cost more than the
 * multiplications. Each image is copied once into a zero-padded buffer; an output pixel's tap t is then
 * xp[base[p] + tapoff[t]], so the 6×16 register tile of the GEMM micro-kernel reads its A operand straight
 * from the image. The forward sums the taps in the same order as the GEMM path (one FMA chain per output
 * from zero), so its results are the same bits when K ≤ KC. AVX2/FMA (also on AVX-512 CPUs); the portable
 * path keeps im2col. */
#define DIRECT_MAX_TAPS 64
#define SLOT_DIRECT 3
#define DIRECT_PIXELS 256 /* filter gradient: pixels summed in registers before adding to the partial sums */

static int padded_height(const pul_conv_t *g) { return (g->oh - 1) * g->sh + g->kh; }
static int padded_width(const pul_conv_t *g) { return (g->ow - 1) * g->sw + g->kw; }
/* floats of one worker's buffer: the padded image (+ one pixel block of slack), the pixel bases, the tap offsets */
static size_t direct_floats(const pul_conv_t *g) {
  size_t per_image = (size_t)g->oh * g->ow;
  return (size_t)padded_height(g) * padded_width(g) * g->ci + 64 + (per_image + 8) + (size_t)taps(g);
}

static int use_direct(const pul_conv_t *g) {
#ifdef PUL_X86
  return taps(g) <= DIRECT_MAX_TAPS && g->co % 8 == 0 && pul_gemm_isa() >= PUL_ISA_AVX2;
#else
  (void)g;
  return 0;
#endif
}

/* The forward also reads A from the image when few output channels share each packed A panel: with
 * co ≤ DIRECT_FWD_MAX_CO the im2col copy and the packing of A are amortised over co/16 ≤ 4 column panels
 * only (fmnist's 14×14×32→64: 9.2 vs 11 CPU ms per batch of 65; at co = 128 the GEMM path is as fast).
 * Taps are summed in KC blocks as the AVX2 GEMM does, so the result is the same bits; the AVX-512 GEMM
 * (16 lanes, k in pairs) keeps its own path. */
#define DIRECT_FWD_MAX_CO 64
static int use_direct_forward(const pul_conv_t *g) {
  return use_direct(g) || (g->co <= DIRECT_FWD_MAX_CO && !is_pointwise(g) && g->co % 8 == 0 && pul_gemm_isa() == PUL_ISA_AVX2);
}

/* Image n into xp (zero padding), base[p] of each output pixel (pixels past the image: 0), tapoff[t]. */
static void direct_prepare(const pul_conv_t *g, const float *x, int n, float *buf, float **xp_out, int **base_out, int **tapoff_out) {
  const int Hp = padded_height(g), Wp = padded_width(g), ci = g->ci, per_image = g->oh * g->ow;
  float *xp = buf;
  int *base = (int *)(buf + (size_t)Hp * Wp * ci + 64);
  int *tapoff = base + per_image + 8;
  memset(xp, 0, sizeof(float) * ((size_t)Hp * Wp * ci + 64));
  for (int yy = 0; yy < Hp; yy++) {
    int iy = yy - g->pt;
    if (iy < 0 || iy >= g->h) continue;
    int x0 = g->pl, ix0 = 0, count = g->w;
    if (count > Wp - x0) count = Wp - x0; /* 'valid'-like geometry may not read the last columns */
    if (count > 0) memcpy(xp + ((size_t)yy * Wp + x0) * ci, x + (((size_t)n * g->h + iy) * g->w + ix0) * ci, sizeof(float) * (size_t)count * ci);
  }
  for (int p = 0; p < per_image + 8; p++) base[p] = p < per_image ? ((p / g->ow) * g->sh * Wp + (p % g->ow) * g->sw) * ci : 0;
  for (int ky = 0, t = 0; ky < g->kh; ky++)
    for (int kx = 0; kx < g->kw; kx++)
      for (int c = 0; c < ci; c++) tapoff[t++] = (ky * Wp + kx) * ci + c;
  *xp_out = xp;
  *base_out = base;
  *tapoff_out = tapoff;
}

#ifdef PUL_X86
/* The 6×16 register tile of both direct kernels: rows read A through x0…x5 (+ an offset), B is one or two
   8-wide vectors; 12 accumulators c<row><half>, as the GEMM micro-kernel. */
#define TILE_ZERO                                                                                                       \
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps(); \
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps(); \
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps()
#define TILE_ROW_16(r, o, b0, b1)                      \
  do {                                                 \
    __m256 a = _mm256_broadcast_ss(x##r + (o));        \
    c##r##0 = _mm256_fmadd_ps(a, b0, c##r##0);         \
    c##r##1 = _mm256_fmadd_ps(a, b1, c##r##1);         \
  } while (0)
#define TILE_STEP_16(o, b0, b1)                                                              \
  do {                                                                                       \
    TILE_ROW_16(0, o, b0, b1); TILE_ROW_16(1, o, b0, b1); TILE_ROW_16(2, o, b0, b1);         \
    TILE_ROW_16(3, o, b0, b1); TILE_ROW_16(4, o, b0, b1); TILE_ROW_16(5, o, b0, b1);         \
  } while (0)
#define TILE_ROW_8(r, o, b0) c##r##0 = _mm256_fmadd_ps(_mm256_broadcast_ss(x##r + (o)), b0, c##r##0)
#define TILE_STEP_8(o, b0)                                                                         \
  do {                                                                                             \
    TILE_ROW_8(0, o, b0); TILE_ROW_8(1, o, b0); TILE_ROW_8(2, o, b0);                              \
    TILE_ROW_8(3, o, b0); TILE_ROW_8(4, o, b0); TILE_ROW_8(5, o, b0);                              \
  } while (0)
#define TILE_ACC __m256 acc[6][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}}

/* y rows of pixels b[0..mr) (mr ≤ 6), columns [j, j+8·wide) (wide 1 or 2) = Σ_t xp[b[r] + tapoff[t]] · f[t, j…]
 * over taps [t0, t1) (one KC block), added to y unless first; bias and ReLU are applied by the last block. */
__attribute__((target("avx2,fma"))) static void direct_fwd_tile(int t0, int t1, const float *xp, const int *b, const int *tapoff, const float *f, int co, int j, int wide,
                                                                float *y, int mr, int first, const float *bias, int relu) {
  TILE_ZERO;
  const float *x0 = xp + b[0], *x1 = xp + b[1], *x2 = xp + b[2], *x3 = xp + b[3], *x4 = xp + b[4], *x5 = xp + b[5];
  const float *fj = f + (size_t)t0 * co + j;
  const int K = t1;
  if (wide == 2) {
    for (int t = t0; t < K; t++, fj += co) {
      int o = tapoff[t];
      __m256 b0 = _mm256_loadu_ps(fj), b1 = _mm256_loadu_ps(fj + 8);
      TILE_STEP_16(o, b0, b1);
    }
  } else {
    for (int t = t0; t < K; t++, fj += co) {
      int o = tapoff[t];
      __m256 b0 = _mm256_loadu_ps(fj);
      TILE_STEP_8(o, b0);
    }
  }
  TILE_ACC;
  const __m256 zero = _mm256_setzero_ps();
  for (int r = 0; r < mr; r++) {
    float *row = y + (size_t)r * co + j;
    for (int v = 0; v < wide; v++) {
      /* (0 + block 1) + block 2 …, as the GEMM adds each KC block's tile into C zeroed first */
      __m256 s = _mm256_add_ps(first ? zero : _mm256_loadu_ps(row + 8 * v), acc[r][v]);
      if (bias) s = _mm256_add_ps(s, _mm256_loadu_ps(bias + j + 8 * v));
      /* max(s, 0) would turn NaN into 0: keep NaN (divergence must show), as the scalar path */
      if (relu) s = _mm256_blendv_ps(s, zero, _mm256_cmp_ps(s, zero, _CMP_LT_OQ));
      _mm256_storeu_ps(row + 8 * v, s);
    }
  }
}

/* partial[t0 + r, j…] += Σ_p xp[base[p] + tapoff[t0 + r]] · dy[p, j…] over pixels [p0, p1), r < mr ≤ 6. */
__attribute__((target("avx2,fma"))) static void direct_bpf_tile(const float *xp, const int *base, const int *to, int p0, int p1, const float *dy, int co, int j,
                                                                int wide, float *partial, int mr) {
  TILE_ZERO;
  const float *x0 = xp + to[0], *x1 = xp + to[1], *x2 = xp + to[2], *x3 = xp + to[3], *x4 = xp + to[4], *x5 = xp + to[5];
  const float *d = dy + (size_t)p0 * co + j;
  if (wide == 2) {
    for (int p = p0; p < p1; p++, d += co) {
      int o = base[p];
      __m256 b0 = _mm256_loadu_ps(d), b1 = _mm256_loadu_ps(d + 8);
      TILE_STEP_16(o, b0, b1);
    }
  } else {
    for (int p = p0; p < p1; p++, d += co) {
      int o = base[p];
      __m256 b0 = _mm256_loadu_ps(d);
      TILE_STEP_8(o, b0);
    }
  }
  TILE_ACC;
  for (int r = 0; r < mr; r++) {
    float *row = partial + (size_t)r * co + j;
    for (int v = 0; v < wide; v++) _mm256_storeu_ps(row + 8 * v, _mm256_add_ps(_mm256_loadu_ps(row + 8 * v), acc[r][v]));
  }
}
#endif

typedef struct {
  const pul_conv_t *g;
  const float *x, *f, *bias, *dy;
  int relu;
  float *y, *buf, *partial; /* per worker: direct_floats(g) floats; bpf: K·co partial sums */
} direct_ctx;

/* One image: the forward (c->dy null) or the filter gradient's partial sums of this worker. */
static void direct_task(void *p, int n, int worker) {
#ifdef PUL_X86
  direct_ctx *c = p;
  const pul_conv_t *g = c->g;
  const int K = taps(g), co = g->co, per_image = g->oh * g->ow;
  float *xp;
  int *base, *tapoff;
  direct_prepare(g, c->x, n, c->buf + (size_t)worker * direct_floats(g), &xp, &base, &tapoff);
  if (c->dy == 0) {
    float *y = c->y + (size_t)n * per_image * co;
    for (int p = 0; p < per_image; p += 6) {
      int mr = per_image - p < 6 ? per_image - p : 6;
      for (int t0 = 0; t0 < K; t0 += PUL_GEMM_KC) {
        int t1 = K - t0 < PUL_GEMM_KC ? K : t0 + PUL_GEMM_KC, last = t1 == K;
        for (int j = 0; j < co; j += 16)
          direct_fwd_tile(t0, t1, xp, base + p, tapoff, c->f, co, j, co - j >= 16 ? 2 : 1, y + (size_t)p * co, mr, t0 == 0, last ? c->bias : 0, last && c->relu);
      }
    }
    return;
  }
  const float *dy = c->dy + (size_t)n * per_image * co;
  float *partial = c->partial + (size_t)worker * K * co;
  for (int t0 = 0; t0 < K; t0 += 6) {
    int mr = K - t0 < 6 ? K - t0 : 6;
    int to[6];
    for (int r = 0; r < 6; r++) to[r] = tapoff[r < mr ? t0 + r : t0];
    for (int p0 = 0; p0 < per_image; p0 += DIRECT_PIXELS) {
      int p1 = per_image - p0 < DIRECT_PIXELS ? per_image : p0 + DIRECT_PIXELS;
      for (int j = 0; j < co; j += 16) direct_bpf_tile(xp, base, to, p0, p1, dy, co, j, co - j >= 16 ? 2 : 1, partial + (size_t)t0 * co, mr);
    }
  }
#else
  (void)p, (void)n, (void)worker;
#endif
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
  if (use_direct_forward(g)) {
    direct_ctx c = {g, x, f, bias, 0, relu, y, pul_workspace(SLOT_DIRECT, (size_t)pul_threads() * direct_floats(g)), 0};
    pul_parallel_for(g->n, direct_task, &c);
    return;
  }
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

/* Stride 1: dx is the forward convolution of dy (padded by kh−1−pt, kw−1−pl) with the filter turned by
 * 180° and its channels swapped, f'[ky, kx, o, c] = f[kh−1−ky, kw−1−kx, c, o]. With dx's channels ≤ 64 that
 * runs on the direct forward (no dcols buffer, no col2im scatter): fmnist's 14×14×64→32 and 7×7×128→64
 * input gradients. The taps are summed in another order than the GEMM + col2im path's. */
static int use_direct_backprop_input(const pul_conv_t *g) {
  pul_conv_t t = {g->n, g->oh, g->ow, g->co, g->kh, g->kw, g->ci, 1, 1, g->kh - 1 - g->pt, g->kw - 1 - g->pl, g->h, g->w};
  return g->sh == 1 && g->sw == 1 && t.pt >= 0 && t.pl >= 0 && use_direct_forward(&t);
}

void pul_conv2d_backprop_input(const pul_conv_t *g, const float *dy, const float *f, float *dx) {
  const int K = taps(g);
  if (use_direct_backprop_input(g)) {
    pul_conv_t t = {g->n, g->oh, g->ow, g->co, g->kh, g->kw, g->ci, 1, 1, g->kh - 1 - g->pt, g->kw - 1 - g->pl, g->h, g->w};
    float *ft = pul_workspace(SLOT_FILTER, (size_t)K * g->co);
    for (int ky = 0; ky < g->kh; ky++)
      for (int kx = 0; kx < g->kw; kx++)
        for (int c = 0; c < g->ci; c++) {
          const float *src = f + (((size_t)(g->kh - 1 - ky) * g->kw + (g->kw - 1 - kx)) * g->ci + c) * g->co;
          float *dst = ft + ((size_t)ky * g->kw + kx) * g->co * g->ci + c;
          for (int o = 0; o < g->co; o++) dst[(size_t)o * g->ci] = src[o];
        }
    pul_conv2d(&t, dy, ft, 0, 0, dx);
    return;
  }
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
  if (use_direct(g)) {
    int used = workers < g->n ? workers : g->n;
    direct_ctx c = {g, x, 0, 0, dy, 0, 0, pul_workspace(SLOT_DIRECT, (size_t)workers * direct_floats(g)), pul_workspace(SLOT_PARTIAL, (size_t)workers * size)};
    memset(c.partial, 0, sizeof(float) * (size_t)used * size);
    pul_parallel_for(g->n, direct_task, &c);
    memset(df, 0, size * sizeof(float));
    for (int w = 0; w < used; w++)
      for (size_t i = 0; i < size; i++) df[i] += c.partial[(size_t)w * size + i];
    return;
  }
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
