/* Single-threaded blocked SGEMM, row-major: C (+)= op(A) · op(B), C is M×N, op(A) M×K, op(B) K×N. */
#ifndef PUL_GEMM_H
#define PUL_GEMM_H
void pul_sgemm(int M, int N, int K, const float *A, int lda, int transA, const float *B, int ldb, int transB,
               float *C, int ldc, int accumulate);
/* C = op(A)·op(B) on every core (row blocks of C). */
void pul_sgemm_parallel(int M, int N, int K, const float *A, int lda, int transA, const float *B, int ldb, int transB, float *C, int ldc);
/* op(B) (K×N) packed once for many products with different A: a buffer of pul_sgemm_packed_b_length floats. */
#include <stddef.h>
size_t pul_sgemm_packed_b_length(int N, int K);
void pul_sgemm_pack_b(int N, int K, const float *B, int ldb, int transB, float *packed);
/* C = op(A)·B from a packed B, on this thread. */
void pul_sgemm_packed(int M, int N, int K, const float *A, int lda, int transA, const float *packed, float *C, int ldc);
/* C = op(A)·B from a packed B, on every core; bit-identical to pul_sgemm_parallel on the same operands. */
void pul_sgemm_packed_parallel(int M, int N, int K, const float *A, int lda, int transA, const float *packed, float *C, int ldc);
/* 1 when the AVX2/FMA or AVX-512 micro-kernel runs. */
int pul_sgemm_uses_avx2(void);
/* The micro-kernel's instruction set: chosen at first use from the CPU's features (the widest it has), or
 * set (-1: the widest again); set returns -1 when this CPU (or build) cannot run it. */
enum { PUL_ISA_SCALAR = 0, PUL_ISA_AVX2 = 1, PUL_ISA_AVX512 = 2 };
/* Depth of the K blocks: each block's products are summed in registers, then added to C (kernels that
 * skip the GEMM but must give its bits sum in the same blocks). */
#define PUL_GEMM_KC 256
int pul_gemm_isa(void);
int pul_gemm_set_isa(int isa);
int pul_gemm_isa_supported(int isa);
const char *pul_gemm_isa_name(int isa);
#endif
