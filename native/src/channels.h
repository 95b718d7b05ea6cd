/* Per-channel kernels over a [rows, channels] view of an NHWC tensor, and max-pool's gradient. */
#ifndef PUL_CHANNELS_H
#define PUL_CHANNELS_H
/* out[c] = scale · Σ_r x[r, c] */
void pul_channel_sum(const float *x, int rows, int channels, float scale, float *out);
/* out[r, c] = v[c] · scale */
void pul_broadcast_channels(const float *v, int rows, int channels, float scale, float *out);
void pul_channel_affine(const float *x, int rows, int channels, const float *a, const float *b, float *y);
/* Every gradient of batch norm with per-channel statistics (see src/backend/kernels/batch-norm-grad.ts). */
void pul_batch_norm_grad(const float *x, const float *dy, const float *mean, const float *variance, const float *scale, float eps,
                         int rows, int channels, float *dx, float *dmean, float *dvariance, float *dscale, float *doffset);
/* dx of max pooling: each dy goes to its window's first maximum (tfjs's rule). */
void pul_max_pool_grad(const float *x, const float *dy, int n, int h, int w, int c, int fh, int fw, int sh, int sw, int pt, int pl,
                       int oh, int ow, float *dx);
/* y of max pooling (NHWC): each window's maximum per channel; a NaN in the window gives NaN. */
void pul_max_pool(const float *x, int n, int h, int w, int c, int fh, int fw, int sh, int sw, int pt, int pl, int oh, int ow, float *y);
/* out = a op b over [rows, channels]: b of the same shape (WHOLE), one value per channel (PER_CHANNEL) or one
   value (SCALAR); SQUARE ignores b. The same IEEE operations as tfjs's kernels, so the same bits. */
enum { PUL_EW_ADD = 0, PUL_EW_SUB = 1, PUL_EW_MUL = 2, PUL_EW_SQUARE = 3 };
enum { PUL_EW_WHOLE = 0, PUL_EW_PER_CHANNEL = 1, PUL_EW_SCALAR = 2 };
void pul_elementwise(int op, int mode, const float *a, const float *b, int rows, int channels, float *out);
/* One SGD-momentum step of n weights in tfjs's float32 operations and order (no fused multiply-add):
   d = g + w·wd (wd ≠ 0), na = m·a + d, nw = c·na + w (c = −learning rate). */
#include <stddef.h>
void pul_sgd_momentum(const float *w, const float *a, const float *g, size_t n, float c, float m, float wd, float *nw, float *na);
#endif
