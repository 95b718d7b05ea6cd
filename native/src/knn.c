/*
 * Row-wise top-k selection over a block of GEMM dot products, the part of an exact k-nearest-neighbour
 * search that is not the GEMM (60 000 rows: 3.6·10⁹ candidates, ~10× slower in JS than here). Each row's
 * kept list is a sorted buffer; a candidate not below the current k-th is rejected with one compare.
 */
#include "knn.h"
#include "parallel.h"

#define ROWS_PER_TASK 16

typedef struct {
  const float *dots;
  int rows, n, first, cap, stride, skip;
  const double *norms;
  int32_t *idx;
  float *dist;
} topk_t;

static void topk_task(void *p, int task, int worker) {
  (void)worker;
  const topk_t *t = p;
  int end = (task + 1) * ROWS_PER_TASK < t->rows ? (task + 1) * ROWS_PER_TASK : t->rows;
  for (int r = task * ROWS_PER_TASK; r < end; r++) {
    int i = t->first + r;
    int32_t *idx = t->idx + (int64_t)i * t->stride + t->skip;
    float *dist = t->dist + (int64_t)i * t->stride + t->skip;
    const float *row = t->dots + (int64_t)r * t->n;
    double ni = t->norms[i];
    int cap = t->cap, filled = 0;
    double worst = 1.0 / 0.0;
    for (int j = 0; j < t->n; j++) {
      if (j == i) continue;
      double d = ni + t->norms[j] - 2.0 * (double)row[j];
      if (d < 0) d = 0;
      if (filled == cap && d >= worst) continue;
      int q = filled < cap ? filled++ : cap - 1;
      while (q > 0 && (double)dist[q - 1] > d) {
        dist[q] = dist[q - 1];
        idx[q] = idx[q - 1];
        q--;
      }
      dist[q] = (float)d;
      idx[q] = j;
      if (filled == cap) worst = dist[cap - 1];
    }
  }
}

void pul_topk_rows(const float *dots, int rows, int n, const double *norms, int first, int cap, int stride, int skip, int32_t *idx, float *dist) {
  if (rows <= 0 || cap <= 0) return;
  topk_t t = {dots, rows, n, first, cap, stride, skip, norms, idx, dist};
  pul_parallel_for((rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK, topk_task, &t);
}
