/*
 * Blocked SGEMM (Goto/BLIS layout): B is packed in panels of NR columns, A in panels of MR rows, and a
 * 6×16 register-blocked micro-kernel accumulates with AVX2 FMA (12 of the 16 ymm registers). Packing
 * reads through the transposition flags, so transposed operands cost nothing extra. The AVX-512 and AVX2
 * kernels are compiled for their target alone (function attributes, no global -m flags) and chosen at run
 * time from the CPU's features (pul_gemm_set_isa overrides: PUL_ISA); other CPUs get a portable kernel.
 */
#include "gemm.h"
#include "parallel.h"
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#define PUL_X86 1
#include <immintrin.h>
#endif

#define MR 6
#define NR 16
#define KC PUL_GEMM_KC
#define MC 120
#define NC 2048

static inline int min_int(int a, int b) { return a < b ? a : b; }

static void pack_a(int mc, int kc, const float *A, int lda, int transA, float *buf) {
  for (int ir = 0; ir < mc; ir += MR) {
    int mr = min_int(MR, mc - ir);
    for (int k = 0; k < kc; k++) {
      int r = 0;
      if (transA) {
        const float *src = A + (size_t)k * lda + ir;
        for (; r < mr; r++) *buf++ = src[r];
      } else {
        for (; r < mr; r++) *buf++ = A[(size_t)(ir + r) * lda + k];
      }
      for (; r < MR; r++) *buf++ = 0.0f;
    }
  }
}

static void pack_b(int kc, int nc, const float *B, int ldb, int transB, float *buf) {
  for (int jr = 0; jr < nc; jr += NR) {
    int nr = min_int(NR, nc - jr);
    for (int k = 0; k < kc; k++) {
      int c = 0;
      if (transB) {
        for (; c < nr; c++) *buf++ = B[(size_t)(jr + c) * ldb + k];
      } else {
        const float *src = B + (size_t)k * ldb + jr;
        if (nr == NR) {
          memcpy(buf, src, NR * sizeof(float));
          buf += NR;
          c = NR;
        } else {
          for (; c < nr; c++) *buf++ = src[c];
        }
      }
      for (; c < NR; c++) *buf++ = 0.0f;
    }
  }
}

/* c[MR×NR] (ldc) += a-panel · b-panel over kc; only the mr×nr corner is written. */
typedef void (*micro_kernel_fn)(int kc, const float *a, const float *b, float *c, int ldc, int mr, int nr);

#ifdef PUL_X86
__attribute__((target("avx2,fma"))) static void micro_kernel_avx2(int kc, const float *a, const float *b, float *c, int ldc, int mr, int nr) {
  __m256 c00 = _mm256_setzero_ps(), c01 = _mm256_setzero_ps(), c10 = _mm256_setzero_ps(), c11 = _mm256_setzero_ps();
  __m256 c20 = _mm256_setzero_ps(), c21 = _mm256_setzero_ps(), c30 = _mm256_setzero_ps(), c31 = _mm256_setzero_ps();
  __m256 c40 = _mm256_setzero_ps(), c41 = _mm256_setzero_ps(), c50 = _mm256_setzero_ps(), c51 = _mm256_setzero_ps();
  for (int k = 0; k < kc; k++) {
    __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
    __m256 a0 = _mm256_broadcast_ss(a + 0), a1 = _mm256_broadcast_ss(a + 1);
    c00 = _mm256_fmadd_ps(a0, b0, c00); c01 = _mm256_fmadd_ps(a0, b1, c01);
    c10 = _mm256_fmadd_ps(a1, b0, c10); c11 = _mm256_fmadd_ps(a1, b1, c11);
    __m256 a2 = _mm256_broadcast_ss(a + 2), a3 = _mm256_broadcast_ss(a + 3);
    c20 = _mm256_fmadd_ps(a2, b0, c20); c21 = _mm256_fmadd_ps(a2, b1, c21);
    c30 = _mm256_fmadd_ps(a3, b0, c30); c31 = _mm256_fmadd_ps(a3, b1, c31);
    __m256 a4 = _mm256_broadcast_ss(a + 4), a5 = _mm256_broadcast_ss(a + 5);
    c40 = _mm256_fmadd_ps(a4, b0, c40); c41 = _mm256_fmadd_ps(a4, b1, c41);
    c50 = _mm256_fmadd_ps(a5, b0, c50); c51 = _mm256_fmadd_ps(a5, b1, c51);
    a += MR;
    b += NR;
  }
  __m256 acc[MR][2] = {{c00, c01}, {c10, c11}, {c20, c21}, {c30, c31}, {c40, c41}, {c50, c51}};
  if (nr == NR) {
    for (int r = 0; r < mr; r++) {
      float *row = c + (size_t)r * ldc;
      _mm256_storeu_ps(row, _mm256_add_ps(_mm256_loadu_ps(row), acc[r][0]));
      _mm256_storeu_ps(row + 8, _mm256_add_ps(_mm256_loadu_ps(row + 8), acc[r][1]));
    }
  } else {
    float tmp[NR];
    for (int r = 0; r < mr; r++) {
      _mm256_storeu_ps(tmp, acc[r][0]);
      _mm256_storeu_ps(tmp + 8, acc[r][1]);
      float *row = c + (size_t)r * ldc;
      for (int j = 0; j < nr; j++) row[j] += tmp[j];
    }
  }
}

/* The AVX2 kernel's structure with one 16-lane register per row of the tile; k runs in pairs into two sets
 * of accumulators (even and odd k, added at the end) so that 12 independent FMA chains hide the latency. */
__attribute__((target("avx512f"))) static void micro_kernel_avx512(int kc, const float *a, const float *b, float *c, int ldc, int mr, int nr) {
  __m512 e0 = _mm512_setzero_ps(), e1 = _mm512_setzero_ps(), e2 = _mm512_setzero_ps(), e3 = _mm512_setzero_ps(), e4 = _mm512_setzero_ps(), e5 = _mm512_setzero_ps();
  __m512 o0 = _mm512_setzero_ps(), o1 = _mm512_setzero_ps(), o2 = _mm512_setzero_ps(), o3 = _mm512_setzero_ps(), o4 = _mm512_setzero_ps(), o5 = _mm512_setzero_ps();
  int k = 0;
  for (; k + 1 < kc; k += 2) {
    __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + NR);
    e0 = _mm512_fmadd_ps(_mm512_set1_ps(a[0]), b0, e0); o0 = _mm512_fmadd_ps(_mm512_set1_ps(a[MR + 0]), b1, o0);
    e1 = _mm512_fmadd_ps(_mm512_set1_ps(a[1]), b0, e1); o1 = _mm512_fmadd_ps(_mm512_set1_ps(a[MR + 1]), b1, o1);
    e2 = _mm512_fmadd_ps(_mm512_set1_ps(a[2]), b0, e2); o2 = _mm512_fmadd_ps(_mm512_set1_ps(a[MR + 2]), b1, o2);
    e3 = _mm512_fmadd_ps(_mm512_set1_ps(a[3]), b0, e3); o3 = _mm512_fmadd_ps(_mm512_set1_ps(a[MR + 3]), b1, o3);
    e4 = _mm512_fmadd_ps(_mm512_set1_ps(a[4]), b0, e4); o4 = _mm512_fmadd_ps(_mm512_set1_ps(a[MR + 4]), b1, o4);
    e5 = _mm512_fmadd_ps(_mm512_set1_ps(a[5]), b0, e5); o5 = _mm512_fmadd_ps(_mm512_set1_ps(a[MR + 5]), b1, o5);
    a += 2 * MR;
    b += 2 * NR;
  }
  if (k < kc) {
    __m512 b0 = _mm512_loadu_ps(b);
    e0 = _mm512_fmadd_ps(_mm512_set1_ps(a[0]), b0, e0);
    e1 = _mm512_fmadd_ps(_mm512_set1_ps(a[1]), b0, e1);
    e2 = _mm512_fmadd_ps(_mm512_set1_ps(a[2]), b0, e2);
    e3 = _mm512_fmadd_ps(_mm512_set1_ps(a[3]), b0, e3);
    e4 = _mm512_fmadd_ps(_mm512_set1_ps(a[4]), b0, e4);
    e5 = _mm512_fmadd_ps(_mm512_set1_ps(a[5]), b0, e5);
  }
  __m512 acc[MR] = {_mm512_add_ps(e0, o0), _mm512_add_ps(e1, o1), _mm512_add_ps(e2, o2), _mm512_add_ps(e3, o3), _mm512_add_ps(e4, o4), _mm512_add_ps(e5, o5)};
  float tmp[NR];
  for (int r = 0; r < mr; r++) {
    float *row = c + (size_t)r * ldc;
    if (nr == NR) {
      _mm512_storeu_ps(row, _mm512_add_ps(_mm512_loadu_ps(row), acc[r]));
    } else {
      _mm512_storeu_ps(tmp, acc[r]);
      for (int j = 0; j < nr; j++) row[j] += tmp[j];
    }
  }
}
#endif

static void micro_kernel_scalar(int kc, const float *a, const float *b, float *c, int ldc, int mr, int nr) {
  float acc[MR][NR];
  memset(acc, 0, sizeof acc);
  for (int k = 0; k < kc; k++) {
    for (int r = 0; r < MR; r++)
      for (int j = 0; j < NR; j++) acc[r][j] += a[r] * b[j];
    a += MR;
    b += NR;
  }
  for (int r = 0; r < mr; r++)
    for (int j = 0; j < nr; j++) c[(size_t)r * ldc + j] += acc[r][j];
}

static const char *const ISA_NAMES[] = {"scalar", "avx2", "avx512"};

static micro_kernel_fn isa_kernel(int isa) {
#ifdef PUL_X86
  if (isa == PUL_ISA_AVX512 && __builtin_cpu_supports("avx512f")) return micro_kernel_avx512;
  if (isa == PUL_ISA_AVX2 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return micro_kernel_avx2;
#endif
  return isa == PUL_ISA_SCALAR ? micro_kernel_scalar : 0;
}

int pul_gemm_isa_supported(int isa) { return isa >= 0 && isa <= PUL_ISA_AVX512 && isa_kernel(isa) != 0; }

static int current_isa = -1;

static int best_isa(void) {
  int isa = PUL_ISA_AVX512;
  while (!pul_gemm_isa_supported(isa)) isa--;
  return isa;
}

int pul_gemm_set_isa(int isa) {
  if (isa < 0) isa = best_isa();
  if (!pul_gemm_isa_supported(isa)) return -1;
  current_isa = isa;
  return 0;
}

int pul_gemm_isa(void) {
  if (current_isa < 0) current_isa = best_isa();
  return current_isa;
}

const char *pul_gemm_isa_name(int isa) { return isa >= 0 && isa <= PUL_ISA_AVX512 ? ISA_NAMES[isa] : "?"; }

static micro_kernel_fn chosen_kernel(void) { return isa_kernel(pul_gemm_isa()); }

int pul_sgemm_uses_avx2(void) { return pul_gemm_isa() >= PUL_ISA_AVX2; }

void pul_sgemm(int M, int N, int K, const float *A, int lda, int transA, const float *B, int ldb, int transB,
               float *C, int ldc, int accumulate) {
  if (!accumulate)
    for (int i = 0; i < M; i++) memset(C + (size_t)i * ldc, 0, (size_t)N * sizeof(float));
  if (M == 0 || N == 0 || K == 0) return;
  micro_kernel_fn micro_kernel = chosen_kernel();
  float *bufA = pul_workspace(0, (size_t)MC * KC);
  float *bufB = pul_workspace(1, (size_t)KC * (NC + NR));
  for (int jc = 0; jc < N; jc += NC) {
    int nc = min_int(NC, N - jc);
    for (int pc = 0; pc < K; pc += KC) {
      int kc = min_int(KC, K - pc);
      const float *Bp = transB ? B + (size_t)jc * ldb + pc : B + (size_t)pc * ldb + jc;
      pack_b(kc, nc, Bp, ldb, transB, bufB);
      for (int ic = 0; ic < M; ic += MC) {
        int mc = min_int(MC, M - ic);
        const float *Ap = transA ? A + (size_t)pc * lda + ic : A + (size_t)ic * lda + pc;
        pack_a(mc, kc, Ap, lda, transA, bufA);
        for (int jr = 0; jr < nc; jr += NR) {
          int nr = min_int(NR, nc - jr);
          for (int ir = 0; ir < mc; ir += MR) {
            int mr = min_int(MR, mc - ir);
            micro_kernel(kc, bufA + (size_t)ir * kc, bufB + (size_t)jr * kc, C + (size_t)(ic + ir) * ldc + jc + jr, ldc, mr, nr);
          }
        }
      }
    }
  }
}

/* ---- the same, on every core: row blocks of C per task (each packs B itself; B is read-only) ---- */

typedef struct {
  int M, N, K, lda, transA, ldb, transB, ldc, rows_per_task;
  const float *A, *B;
  float *C;
  int cols_per_task; /* > 0: tasks split the columns of C instead of its rows */
} gemm_ctx;

static void gemm_task(void *p, int task, int worker) {
  (void)worker;
  gemm_ctx *g = p;
  if (g->cols_per_task > 0) {
    int j0 = task * g->cols_per_task;
    int cols = g->N - j0 < g->cols_per_task ? g->N - j0 : g->cols_per_task;
    const float *B = g->transB ? g->B + (size_t)j0 * g->ldb : g->B + j0;
    pul_sgemm(g->M, cols, g->K, g->A, g->lda, g->transA, B, g->ldb, g->transB, g->C + j0, g->ldc, 0);
    return;
  }
  int i0 = task * g->rows_per_task;
  int rows = g->M - i0 < g->rows_per_task ? g->M - i0 : g->rows_per_task;
  const float *A = g->transA ? g->A + i0 : g->A + (size_t)i0 * g->lda;
  pul_sgemm(rows, g->N, g->K, A, g->lda, g->transA, g->B, g->ldb, g->transB, g->C + (size_t)i0 * g->ldc, g->ldc, 0);
}

void pul_sgemm_parallel(int M, int N, int K, const float *A, int lda, int transA, const float *B, int ldb, int transB, float *C, int ldc) {
  int threads = pul_threads();
  int tasks = threads * 4;
  /* small products are not worth a thread start */
  if (threads < 2 || (double)M * N * K < 4e6 || (M < 2 * MR && N < 2 * NC)) {
    pul_sgemm(M, N, K, A, lda, transA, B, ldb, transB, C, ldc, 0);
    return;
  }
  if (M < 2 * MR) {
    /* few rows, many columns (e.g. k-means++ candidates against every point): split the columns */
    int cols = (N + tasks - 1) / tasks;
    cols = (cols + NR - 1) / NR * NR;
    gemm_ctx g = {M, N, K, lda, transA, ldb, transB, ldc, 0, A, B, C, cols};
    pul_parallel_for((N + cols - 1) / cols, gemm_task, &g);
    return;
  }
  int rows = (M + tasks - 1) / tasks;
  rows = (rows + MR - 1) / MR * MR;
  gemm_ctx g = {M, N, K, lda, transA, ldb, transB, ldc, rows, A, B, C, 0};
  pul_parallel_for((M + rows - 1) / rows, gemm_task, &g);
}

/* ---- op(B) packed once (the k-means++ candidates against every point: one B, hundreds of small A) ---- */

static int round_up_nr(int n) { return (n + NR - 1) / NR * NR; }

size_t pul_sgemm_packed_b_length(int N, int K) { return (size_t)K * (size_t)round_up_nr(N); }

/* Block (jc, pc) starts at jc·K + pc·ncpad(jc): blocks before jc are full NC-wide, and within a jc block the
   KC slices before pc sum to pc rows; panel jr of a block starts jr·kc further. */
static size_t packed_offset(int N, int K, int col, int pc, int kc) {
  int jc = col / NC * NC;
  return (size_t)jc * K + (size_t)pc * round_up_nr(min_int(NC, N - jc)) + (size_t)(col - jc) * kc;
}

void pul_sgemm_pack_b(int N, int K, const float *B, int ldb, int transB, float *packed) {
  for (int jc = 0; jc < N; jc += NC) {
    int nc = min_int(NC, N - jc);
    for (int pc = 0; pc < K; pc += KC) {
      int kc = min_int(KC, K - pc);
      const float *Bp = transB ? B + (size_t)jc * ldb + pc : B + (size_t)pc * ldb + jc;
      pack_b(kc, nc, Bp, ldb, transB, packed + packed_offset(N, K, jc, pc, kc));
    }
  }
}

/* Columns [NR·p0, NR·p1) of C = op(A)·B; the same blocking and summation order as pul_sgemm, so the same bits. */
static void sgemm_packed_panels(int M, int N, int K, const float *A, int lda, int transA, const float *packed, float *C, int ldc, int p0, int p1) {
  int col0 = p0 * NR, col1 = min_int(p1 * NR, N);
  for (int i = 0; i < M; i++) memset(C + (size_t)i * ldc + col0, 0, (size_t)(col1 - col0) * sizeof(float));
  if (M == 0 || K == 0) return;
  micro_kernel_fn micro_kernel = chosen_kernel();
  float *bufA = pul_workspace(0, (size_t)MC * KC);
  for (int pc = 0; pc < K; pc += KC) {
    int kc = min_int(KC, K - pc);
    for (int ic = 0; ic < M; ic += MC) {
      int mc = min_int(MC, M - ic);
      pack_a(mc, kc, transA ? A + (size_t)pc * lda + ic : A + (size_t)ic * lda + pc, lda, transA, bufA);
      for (int col = col0; col < col1; col += NR) {
        const float *b = packed + packed_offset(N, K, col, pc, kc);
        int nr = min_int(NR, N - col);
        for (int ir = 0; ir < mc; ir += MR)
          micro_kernel(kc, bufA + (size_t)ir * kc, b, C + (size_t)(ic + ir) * ldc + col, ldc, min_int(MR, mc - ir), nr);
      }
    }
  }
}

void pul_sgemm_packed(int M, int N, int K, const float *A, int lda, int transA, const float *packed, float *C, int ldc) {
  sgemm_packed_panels(M, N, K, A, lda, transA, packed, C, ldc, 0, (N + NR - 1) / NR);
}

typedef struct {
  int M, N, K, lda, transA, ldc, panels_per_task;
  const float *A, *packed;
  float *C;
} packed_ctx;

static void packed_task(void *p, int task, int worker) {
  (void)worker;
  packed_ctx *g = p;
  int panels = (g->N + NR - 1) / NR;
  int p0 = task * g->panels_per_task;
  sgemm_packed_panels(g->M, g->N, g->K, g->A, g->lda, g->transA, g->packed, g->C, g->ldc, p0, min_int(panels, p0 + g->panels_per_task));
}

void pul_sgemm_packed_parallel(int M, int N, int K, const float *A, int lda, int transA, const float *packed, float *C, int ldc) {
  int panels = (N + NR - 1) / NR;
  if (panels == 0) return;
  int threads = pul_threads();
  int tasks = (double)M * N * K < 4e6 || threads < 2 ? 1 : threads * 4;
  int per = (panels + tasks - 1) / tasks;
  packed_ctx g = {M, N, K, lda, transA, ldc, per, A, packed, C};
  if (tasks == 1) packed_task(&g, 0, 0);
  else pul_parallel_for((panels + per - 1) / per, packed_task, &g);
}
