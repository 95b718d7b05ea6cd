/* The k smallest squared distances per row of a block of dot products (src/clustering/squared-distances.ts nearestRows). */
#ifndef PUL_KNN_H
#define PUL_KNN_H
#include <stdint.h>

/*
 * For each r < rows (row i = first + r of a set of n rows): d_j = max(0, norms[i] + norms[j] − 2·dots[r·n + j])
 * in double over every j ≠ i, and the `cap` smallest kept nearest first in idx / dist (float) from
 * offset i·stride + skip (ties: lower j first, as an insertion that only passes strictly larger values).
 * Entries beyond the rows found stay as the caller filled them. Rows go to every core.
 */
void pul_topk_rows(const float *dots, int rows, int n, const double *norms, int first, int cap, int stride, int skip, int32_t *idx, float *dist);
#endif
