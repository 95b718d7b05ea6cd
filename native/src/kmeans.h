/* One assignment step of pul's k-means with Yinyang bounds (src/clustering/yinyang-assigner.ts). */
#ifndef PUL_KMEANS_H
#define PUL_KMEANS_H
#include <stdint.h>

typedef struct {
  const float *x;          /* n data rows, row-major, d columns */
  int n, d;
  const double *xnorms;    /* ‖x_i‖² */
  const float *centres;    /* the k centres listed group after group (float32) */
  const double *cnorms;    /* their ‖c‖², same order */
  const int32_t *order;    /* original index of listed centre p */
  const int32_t *start;    /* group g = listed centres start[g] .. start[g + 1] − 1 */
  int groups;
  const int32_t *group_of; /* group of each centre (original index) */
  const double *centres64; /* the centres in original order, float64 (exact distances) */
  const double *drift;     /* how far each centre moved since the last step; NULL: search everything */
  int32_t *labels;         /* in/out, n */
  double *upper;           /* in/out, n: upper bound on the distance to the own centre */
  double *lower;           /* in/out, n × groups: lower bound on the distance to the group's other centres */
} pul_kmeans_step_t;

/* Updates labels and bounds on every core; returns the number of row–centre distances computed, −1 when out of memory. */
double pul_kmeans_step(const pul_kmeans_step_t *s);
/* Moves the rows whose label changed (labels vs previous) between the per-centre sums and counts; updates previous. */
void pul_kmeans_accumulate(const float *x, int n, int d, const int32_t *labels, int32_t *previous, double *sums, double *counts);
#endif
