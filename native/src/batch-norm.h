/* Batch norm in training mode over a [rows, channels] view of an NHWC tensor, fused with the ReLU that
 * follows it: batch statistics + normalisation in two passes over x, the whole gradient in two passes. */
#ifndef PUL_BATCH_NORM_H
#define PUL_BATCH_NORM_H
/* mean[c], variance[c] (biased, as tfjs's moments) of x over its rows, then y = x·a[c] + b[c] with the
 * float32 a = scale / √(variance + eps), b = offset − mean·a of pul's inference kernel; y = max(y, 0)
 * when relu. Statistics exact to float rounding (float64 merges of per-block two-pass sums); the
 * results do not depend on the thread count nor on the instruction set. */
void pul_batch_norm_train(const float *x, int rows, int channels, const float *scale, const float *offset, double eps, int relu, float *y, float *mean,
                          float *variance);
/* The gradient of pul_batch_norm_train's y (with respect to x, scale, offset; mean and variance are the
 * batch's, so dx includes their dependence on x): dz = dy (masked by x·a + b > 0 when relu, the same
 * test as the forward), dx = scale·r·(dz − Σdz/N − x̂·Σ(dz·x̂)/N), dscale = Σ dz·x̂, doffset = Σ dz, with
 * r = 1/√(variance + eps) and x̂ = (x − mean)·r. */
void pul_batch_norm_train_grad(const float *x, const float *dy, int rows, int channels, const float *scale, const float *offset, const float *mean,
                               const float *variance, double eps, int relu, float *dx, float *dscale, float *doffset);
#endif
