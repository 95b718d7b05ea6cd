/* Hamming distances between packed binary codes (src/features/binary-codes.ts: bit j of a code is bit j & 63 of 64-bit word j >> 6). */
#ifndef PUL_HAMMING_H
#define PUL_HAMMING_H
#include <stdint.h>

/* Kernel paths; PUL_HAMMING_AUTO picks the fastest the CPU has. */
enum { PUL_HAMMING_AUTO = -1, PUL_HAMMING_PORTABLE = 0, PUL_HAMMING_POPCNT = 1, PUL_HAMMING_AVX512 = 2 };

/* Bit p set when path p runs on this CPU (the portable path always does). */
int pul_hamming_paths(void);
/* The path PUL_HAMMING_AUTO takes here. */
int pul_hamming_best(void);
/* out[i·ng + j] = popcount(q_i XOR g_j) over `words` 64-bit words per row, on every core; 0, or −1 when `path` does not run here. */
int pul_hamming(const uint64_t *q, int nq, const uint64_t *g, int ng, int words, float *out, int path);
#endif
