/* 2-D convolution (NHWC, filter kh×kw×ci×co, dilation 1) and its two gradients, via im2col + SGEMM. */
#ifndef PUL_CONV_H
#define PUL_CONV_H
typedef struct {
  int n, h, w, ci;      /* input */
  int kh, kw, co;       /* filter */
  int sh, sw, pt, pl;   /* strides, top/left padding */
  int oh, ow;           /* output */
} pul_conv_t;

/* y = act(conv(x, f) + bias); bias may be 0; relu 0|1. */
void pul_conv2d(const pul_conv_t *g, const float *x, const float *f, const float *bias, int relu, float *y);
/* dx = conv2d_backprop_input(dy, f) */
void pul_conv2d_backprop_input(const pul_conv_t *g, const float *dy, const float *f, float *dx);
/* df = conv2d_backprop_filter(x, dy) */
void pul_conv2d_backprop_filter(const pul_conv_t *g, const float *x, const float *dy, float *df);
#endif
