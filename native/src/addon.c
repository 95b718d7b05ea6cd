/*
 * pul_native: convolution kernels for pul's wasm backend, working in place on the wasm heap. Every
 * function takes the heap as a Float32Array and element offsets into it, so no data is copied.
 */
#include <node_api.h>
#include <stdint.h>
#include <string.h>
#include "conv.h"
#include "gemm.h"
#include "parallel.h"
#include "channels.h"
#include "kmeans.h"
#include "hamming.h"
#include "knn.h"
#include "batch-norm.h"

#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, 0, "pul_native: bad argument in " #call); \
      return 0;                                                       \
    }                                                                 \
  } while (0)

static int float_array(napi_env env, napi_value v, float **data, size_t *length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, length, (void **)data, &buffer, &offset) != napi_ok) return 0;
  return type == napi_float32_array;
}

static int int_at(napi_env env, napi_value v, int64_t *out) { return napi_get_value_int64(env, v, out) == napi_ok; }

/* Reads (heap, offsets…, dims Int32Array[13]) and checks every range lies inside the heap. */
static int read_conv_args(napi_env env, napi_callback_info info, int offsets, float **heap, size_t *heap_length, int64_t *off, pul_conv_t *g, int64_t *extra, int extras) {
  napi_value args[12];
  size_t argc = 12;
  size_t length;
  if (napi_get_cb_info(env, info, &argc, args, 0, 0) != napi_ok || argc < (size_t)(offsets + 2 + extras)) return 0;
  if (!float_array(env, args[0], heap, &length)) return 0;
  for (int i = 0; i < offsets; i++)
    if (!int_at(env, args[1 + i], &off[i]) || off[i] < -1 || off[i] >= (int64_t)length) return 0;
  int32_t *dims;
  size_t count;
  napi_typedarray_type type;
  napi_value buffer;
  size_t byte_offset;
  if (napi_get_typedarray_info(env, args[1 + offsets], &type, &count, (void **)&dims, &buffer, &byte_offset) != napi_ok || type != napi_int32_array || count != 13) return 0;
  *g = (pul_conv_t){dims[0], dims[1], dims[2], dims[3], dims[4], dims[5], dims[6], dims[7], dims[8], dims[9], dims[10], dims[11], dims[12]};
  for (int i = 0; i < extras; i++)
    if (!int_at(env, args[2 + offsets + i], &extra[i])) return 0;
  if (g->n < 1 || g->h < 1 || g->w < 1 || g->ci < 1 || g->kh < 1 || g->kw < 1 || g->co < 1 || g->sh < 1 || g->sw < 1 || g->oh < 1 || g->ow < 1) return 0;
  *heap_length = length;
  return 1;
}

static int inside(int64_t off, int64_t size, size_t length) { return off >= 0 && off + size <= (int64_t)length; }
static int64_t input_size(const pul_conv_t *g) { return (int64_t)g->n * g->h * g->w * g->ci; }
static int64_t filter_size(const pul_conv_t *g) { return (int64_t)g->kh * g->kw * g->ci * g->co; }
static int64_t output_size(const pul_conv_t *g) { return (int64_t)g->n * g->oh * g->ow * g->co; }

/* conv2d(heap, xOff, fOff, biasOff (-1 = none), yOff, dims, relu) */
static napi_value conv2d(napi_env env, napi_callback_info info) {
  float *heap;
  size_t n;
  int64_t off[4], relu;
  pul_conv_t g;
  if (!read_conv_args(env, info, 4, &heap, &n, off, &g, &relu, 1) || !inside(off[0], input_size(&g), n) || !inside(off[1], filter_size(&g), n) ||
      (off[2] >= 0 && !inside(off[2], g.co, n)) || !inside(off[3], output_size(&g), n)) {
    napi_throw_type_error(env, 0, "pul_native.conv2d(heap, x, f, bias, y, dims, relu): bad arguments");
    return 0;
  }
  pul_conv2d(&g, heap + off[0], heap + off[1], off[2] < 0 ? 0 : heap + off[2], (int)relu, heap + off[3]);
  return 0;
}

/* Which tensor of a convolution an offset points at (for its size). */
typedef enum { INPUT, FILTER, OUTPUT } conv_tensor;

static int64_t size_of(const pul_conv_t *g, conv_tensor t) { return t == INPUT ? input_size(g) : t == FILTER ? filter_size(g) : output_size(g); }

typedef void (*conv_gradient_fn)(const pul_conv_t *, const float *, const float *, float *);

/* fn(heap, a, b, out, dims) for a gradient kernel whose three tensors are `roles`. */
static napi_value conv_gradient(napi_env env, napi_callback_info info, const conv_tensor roles[3], conv_gradient_fn fn, const char *usage) {
  float *heap;
  size_t n;
  int64_t off[3];
  pul_conv_t g;
  if (!read_conv_args(env, info, 3, &heap, &n, off, &g, 0, 0) || !inside(off[0], size_of(&g, roles[0]), n) || !inside(off[1], size_of(&g, roles[1]), n) ||
      !inside(off[2], size_of(&g, roles[2]), n)) {
    napi_throw_type_error(env, 0, usage);
    return 0;
  }
  fn(&g, heap + off[0], heap + off[1], heap + off[2]);
  return 0;
}

/* conv2dBackpropInput(heap, dyOff, fOff, dxOff, dims) */
static napi_value backprop_input(napi_env env, napi_callback_info info) {
  static const conv_tensor roles[3] = {OUTPUT, FILTER, INPUT};
  return conv_gradient(env, info, roles, pul_conv2d_backprop_input, "pul_native.conv2dBackpropInput(heap, dy, f, dx, dims): bad arguments");
}

/* conv2dBackpropFilter(heap, xOff, dyOff, dfOff, dims) */
static napi_value backprop_filter(napi_env env, napi_callback_info info) {
  static const conv_tensor roles[3] = {INPUT, OUTPUT, FILTER};
  return conv_gradient(env, info, roles, pul_conv2d_backprop_filter, "pul_native.conv2dBackpropFilter(heap, x, dy, df, dims): bad arguments");
}

/* sgemm(a Float32Array, b, c, m, n, k, transA, transB): c = op(a)·op(b) on every core (k-means' and the selection's GEMMs, tests). */
static napi_value sgemm(napi_env env, napi_callback_info info) {
  napi_value args[8];
  size_t argc = 8, la, lb, lc;
  float *a, *b, *c;
  int64_t m, n, k, ta, tb;
  CHECK(napi_get_cb_info(env, info, &argc, args, 0, 0));
  if (argc < 8 || !float_array(env, args[0], &a, &la) || !float_array(env, args[1], &b, &lb) || !float_array(env, args[2], &c, &lc) ||
      !int_at(env, args[3], &m) || !int_at(env, args[4], &n) || !int_at(env, args[5], &k) || !int_at(env, args[6], &ta) || !int_at(env, args[7], &tb) ||
      !inside(0, m * k, la) || !inside(0, k * n, lb) || !inside(0, m * n, lc)) {
    napi_throw_type_error(env, 0, "pul_native.sgemm(a, b, c, m, n, k, transA, transB): bad arguments");
    return 0;
  }
  pul_sgemm_parallel((int)m, (int)n, (int)k, a, ta ? (int)m : (int)k, (int)ta, b, tb ? (int)k : (int)n, (int)tb, c, (int)n);
  return 0;
}

/* Reads heap (args[0]) and `count` integers from args[1..]; 0 on a bad argument. */
static int read_ints(napi_env env, napi_callback_info info, float **heap, size_t *length, int64_t *v, int count) {
  napi_value args[16];
  size_t argc = 16;
  if (count > 15 || napi_get_cb_info(env, info, &argc, args, 0, 0) != napi_ok || argc < (size_t)count + 1) return 0;
  if (!float_array(env, args[0], heap, length)) return 0;
  for (int i = 0; i < count; i++)
    if (!int_at(env, args[1 + i], &v[i])) return 0;
  return 1;
}

static double number_at(napi_env env, napi_callback_info info, int index) {
  napi_value args[16];
  size_t argc = 16;
  double d = 0;
  if (napi_get_cb_info(env, info, &argc, args, 0, 0) == napi_ok && (size_t)index < argc) napi_get_value_double(env, args[index], &d);
  return d;
}

/* channelSum(heap, x, out, rows, channels, scale) */
static napi_value channel_sum(napi_env env, napi_callback_info info) {
  float *heap;
  size_t n;
  int64_t v[4];
  if (!read_ints(env, info, &heap, &n, v, 4) || v[2] < 1 || v[3] < 1 || !inside(v[0], v[2] * v[3], n) || !inside(v[1], v[3], n)) {
    napi_throw_type_error(env, 0, "pul_native.channelSum(heap, x, out, rows, channels, scale): bad arguments");
    return 0;
  }
  pul_channel_sum(heap + v[0], (int)v[2], (int)v[3], (float)number_at(env, info, 5), heap + v[1]);
  return 0;
}

/* broadcastChannels(heap, v, out, rows, channels, scale) */
static napi_value broadcast_channels(napi_env env, napi_callback_info info) {
  float *heap;
  size_t n;
  int64_t v[4];
  if (!read_ints(env, info, &heap, &n, v, 4) || v[2] < 1 || v[3] < 1 || !inside(v[0], v[3], n) || !inside(v[1], v[2] * v[3], n)) {
    napi_throw_type_error(env, 0, "pul_native.broadcastChannels(heap, v, out, rows, channels, scale): bad arguments");
    return 0;
  }
  pul_broadcast_channels(heap + v[0], (int)v[2], (int)v[3], (float)number_at(env, info, 5), heap + v[1]);
  return 0;
}

/* channelAffine(heap, x, a, b, y, rows, channels): y = x * a[c] + b[c] */
static napi_value channel_affine(napi_env env, napi_callback_info info) {
  float *heap;
  size_t n;
  int64_t v[6];
  if (!read_ints(env, info, &heap, &n, v, 6) || v[4] < 1 || v[5] < 1 || !inside(v[0], v[4] * v[5], n) || !inside(v[1], v[5], n) || !inside(v[2], v[5], n) ||
      !inside(v[3], v[4] * v[5], n)) {
    napi_throw_type_error(env, 0, "pul_native.channelAffine(heap, x, a, b, y, rows, channels): bad arguments");
    return 0;
  }
  pul_channel_affine(heap + v[0], (int)v[4], (int)v[5], heap + v[1], heap + v[2], heap + v[3]);
  return 0;
}

/* batchNormGrad(heap, x, dy, mean, variance, scale|-1, dx, dmean, dvariance, dscale, doffset, rows, channels, eps) */
static napi_value batch_norm_grad(napi_env env, napi_callback_info info) {
  float *heap;
  size_t n;
  int64_t v[12];
  int ok = read_ints(env, info, &heap, &n, v, 12) && v[10] >= 1 && v[11] >= 1;
  int64_t size = ok ? v[10] * v[11] : 0, C = ok ? v[11] : 0;
  ok = ok && inside(v[0], size, n) && inside(v[1], size, n) && inside(v[2], C, n) && inside(v[3], C, n) && (v[4] < 0 || inside(v[4], C, n)) &&
       inside(v[5], size, n) && inside(v[6], C, n) && inside(v[7], C, n) && inside(v[8], C, n) && inside(v[9], C, n);
  if (!ok) {
    napi_throw_type_error(env, 0, "pul_native.batchNormGrad: bad arguments");
    return 0;
  }
  pul_batch_norm_grad(heap + v[0], heap + v[1], heap + v[2], heap + v[3], v[4] < 0 ? 0 : heap + v[4], (float)number_at(env, info, 13),
                      (int)v[10], (int)v[11], heap + v[5], heap + v[6], heap + v[7], heap + v[8], heap + v[9]);
  return 0;
}

/* batchNormTraining(heap, x, scale, offset, y, mean, variance, rows, channels, relu, eps): see batch-norm.h */
static napi_value batch_norm_training(napi_env env, napi_callback_info info) {
  float *heap;
  size_t n;
  int64_t v[9];
  int ok = read_ints(env, info, &heap, &n, v, 9) && v[6] >= 1 && v[7] >= 1 && v[6] * v[7] < INT32_MAX;
  int64_t size = ok ? v[6] * v[7] : 0, C = ok ? v[7] : 0;
  ok = ok && inside(v[0], size, n) && inside(v[1], C, n) && inside(v[2], C, n) && inside(v[3], size, n) && inside(v[4], C, n) && inside(v[5], C, n);
  if (!ok) {
    napi_throw_type_error(env, 0, "pul_native.batchNormTraining(heap, x, scale, offset, y, mean, variance, rows, channels, relu, eps): bad arguments");
    return 0;
  }
  pul_batch_norm_train(heap + v[0], (int)v[6], (int)v[7], heap + v[1], heap + v[2], number_at(env, info, 10), v[8] != 0, heap + v[3], heap + v[4], heap + v[5]);
  return 0;
}

/* batchNormTrainingGrad(heap, x, dy, scale, offset, mean, variance, dx, dscale, doffset, rows, channels, relu, eps): see batch-norm.h */
static napi_value batch_norm_training_grad(napi_env env, napi_callback_info info) {
  float *heap;
  size_t n;
  int64_t v[12];
  int ok = read_ints(env, info, &heap, &n, v, 12) && v[9] >= 1 && v[10] >= 1 && v[9] * v[10] < INT32_MAX;
  int64_t size = ok ? v[9] * v[10] : 0, C = ok ? v[10] : 0;
  ok = ok && inside(v[0], size, n) && inside(v[1], size, n) && inside(v[2], C, n) && inside(v[3], C, n) && inside(v[4], C, n) && inside(v[5], C, n) &&
       inside(v[6], size, n) && inside(v[7], C, n) && inside(v[8], C, n);
  if (!ok) {
    napi_throw_type_error(env, 0, "pul_native.batchNormTrainingGrad(heap, x, dy, scale, offset, mean, variance, dx, dscale, doffset, rows, channels, relu, eps): bad arguments");
    return 0;
  }
  pul_batch_norm_train_grad(heap + v[0], heap + v[1], (int)v[9], (int)v[10], heap + v[2], heap + v[3], heap + v[4], heap + v[5], number_at(env, info, 13), v[11] != 0,
                            heap + v[6], heap + v[7], heap + v[8]);
  return 0;
}

/* maxPoolGrad(heap, x, dy, dx, dims Int32Array[n,h,w,c,fh,fw,sh,sw,pt,pl,oh,ow]) */
/* elementwise(heap, op, mode, a, b|-1, out, rows, channels): see pul_elementwise */
static napi_value elementwise(napi_env env, napi_callback_info info) {
  float *heap;
  size_t n;
  int64_t v[7];
  int ok = read_ints(env, info, &heap, &n, v, 7) && v[0] >= PUL_EW_ADD && v[0] <= PUL_EW_SQUARE && v[1] >= PUL_EW_WHOLE && v[1] <= PUL_EW_SCALAR && v[5] >= 1 &&
           v[6] >= 1 && v[5] * v[6] < INT32_MAX;
  int64_t size = ok ? v[5] * v[6] : 0, bsize = ok ? (v[1] == PUL_EW_WHOLE ? size : v[1] == PUL_EW_PER_CHANNEL ? v[6] : 1) : 0;
  ok = ok && inside(v[2], size, n) && inside(v[4], size, n) && (v[0] == PUL_EW_SQUARE || inside(v[3], bsize, n));
  if (!ok) {
    napi_throw_type_error(env, 0, "pul_native.elementwise(heap, op, mode, a, b, out, rows, channels): bad arguments");
    return 0;
  }
  pul_elementwise((int)v[0], (int)v[1], heap + v[2], v[0] == PUL_EW_SQUARE ? 0 : heap + v[3], (int)v[5], (int)v[6], heap + v[4]);
  return 0;
}

static napi_value max_pool_grad(napi_env env, napi_callback_info info) {
  float *heap;
  size_t n;
  int64_t v[3];
  napi_value args[5];
  size_t argc = 5, count, byte_offset;
  int32_t *d;
  napi_typedarray_type type;
  napi_value buffer;
  int ok = read_ints(env, info, &heap, &n, v, 3) && napi_get_cb_info(env, info, &argc, args, 0, 0) == napi_ok && argc == 5 &&
           napi_get_typedarray_info(env, args[4], &type, &count, (void **)&d, &buffer, &byte_offset) == napi_ok && type == napi_int32_array && count == 12;
  if (ok) {
    for (int i = 0; i < 12; i++) ok = ok && (d[i] >= 0) && (i >= 8 || d[i] >= 1);
    ok = ok && d[10] >= 1 && d[11] >= 1;
  }
  if (ok) {
    int64_t in = (int64_t)d[0] * d[1] * d[2] * d[3], out = (int64_t)d[0] * d[10] * d[11] * d[3];
    ok = inside(v[0], in, n) && inside(v[1], out, n) && inside(v[2], in, n);
  }
  if (!ok) {
    napi_throw_type_error(env, 0, "pul_native.maxPoolGrad(heap, x, dy, dx, dims): bad arguments");
    return 0;
  }
  pul_max_pool_grad(heap + v[0], heap + v[1], d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], heap + v[2]);
  return 0;
}

/* maxPool(heap, x, y, dims): dims as maxPoolGrad's */
static napi_value max_pool(napi_env env, napi_callback_info info) {
  float *heap;
  size_t n;
  int64_t v[2];
  napi_value args[4];
  size_t argc = 4, count, byte_offset;
  int32_t *d;
  napi_typedarray_type type;
  napi_value buffer;
  int ok = read_ints(env, info, &heap, &n, v, 2) && napi_get_cb_info(env, info, &argc, args, 0, 0) == napi_ok && argc == 4 &&
           napi_get_typedarray_info(env, args[3], &type, &count, (void **)&d, &buffer, &byte_offset) == napi_ok && type == napi_int32_array && count == 12;
  if (ok) {
    for (int i = 0; i < 12; i++) ok = ok && (d[i] >= 0) && (i >= 8 || d[i] >= 1);
    ok = ok && d[10] >= 1 && d[11] >= 1;
  }
  if (ok) {
    int64_t in = (int64_t)d[0] * d[1] * d[2] * d[3], out = (int64_t)d[0] * d[10] * d[11] * d[3];
    ok = inside(v[0], in, n) && inside(v[1], out, n);
  }
  if (!ok) {
    napi_throw_type_error(env, 0, "pul_native.maxPool(heap, x, y, dims): bad arguments");
    return 0;
  }
  pul_max_pool(heap + v[0], d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], heap + v[1]);
  return 0;
}

/* batchMatMul(heap, a, b, c, batch, m, n, k, transA, transB, bBroadcast): c[i] = op(a[i])·op(b[i or 0]) */
static napi_value batch_mat_mul(napi_env env, napi_callback_info info) {
  float *heap;
  size_t n;
  int64_t v[10];
  int ok = read_ints(env, info, &heap, &n, v, 10);
  int64_t batch = v[3], M = v[4], N = v[5], K = v[6], bBatch = v[9] ? 1 : batch;
  ok = ok && batch >= 1 && M >= 1 && N >= 1 && K >= 1 && inside(v[0], batch * M * K, n) && inside(v[1], bBatch * K * N, n) && inside(v[2], batch * M * N, n);
  if (!ok) {
    napi_throw_type_error(env, 0, "pul_native.batchMatMul: bad arguments");
    return 0;
  }
  for (int64_t i = 0; i < batch; i++) {
    const float *a = heap + v[0] + i * M * K, *b = heap + v[1] + (v[9] ? 0 : i * K * N);
    pul_sgemm_parallel((int)M, (int)N, (int)K, a, v[7] ? (int)M : (int)K, (int)v[7], b, v[8] ? (int)K : (int)N, (int)v[8], heap + v[2] + i * M * N, (int)N);
  }
  return 0;
}

/* sgdMomentum(heap, w, a, g, nw, na, n, c, m, wd): see pul_sgd_momentum */
static napi_value sgd_momentum(napi_env env, napi_callback_info info) {
  float *heap;
  size_t n;
  int64_t v[6];
  int ok = read_ints(env, info, &heap, &n, v, 6) && v[5] >= 0;
  for (int i = 0; ok && i < 5; i++) ok = inside(v[i], v[5], n);
  if (!ok) {
    napi_throw_type_error(env, 0, "pul_native.sgdMomentum(heap, w, a, g, nw, na, n, c, m, wd): bad arguments");
    return 0;
  }
  pul_sgd_momentum(heap + v[0], heap + v[1], heap + v[2], (size_t)v[5], (float)number_at(env, info, 7), (float)number_at(env, info, 8), (float)number_at(env, info, 9),
                   heap + v[3], heap + v[4]);
  return 0;
}

/* A typed array of the given type; 0 when it is something else. */
static int typed_array(napi_env env, napi_value v, napi_typedarray_type want, void **data, size_t *length) {
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, length, data, &buffer, &offset) != napi_ok) return 0;
  return type == want;
}

/* kmeansStep(x, d, xnorms, centres, cnorms, order, start, groupOf, centres64, drift | null, labels, upper, lower) → distances computed */
static napi_value kmeans_step(napi_env env, napi_callback_info info) {
  napi_value args[13], result;
  size_t argc = 13, lx, lxn, lc, lcn, lorder, lstart, lgroup, l64, ldrift = 0, llabels, lupper, llower;
  float *x, *centres;
  double *xnorms, *cnorms, *centres64, *drift = 0, *upper, *lower;
  int32_t *order, *start, *group_of, *labels;
  int64_t d;
  napi_valuetype driftType;
  CHECK(napi_get_cb_info(env, info, &argc, args, 0, 0));
  int ok = argc == 13 && float_array(env, args[0], &x, &lx) && int_at(env, args[1], &d) && d >= 1 && typed_array(env, args[2], napi_float64_array, (void **)&xnorms, &lxn) &&
           float_array(env, args[3], &centres, &lc) && typed_array(env, args[4], napi_float64_array, (void **)&cnorms, &lcn) &&
           typed_array(env, args[5], napi_int32_array, (void **)&order, &lorder) && typed_array(env, args[6], napi_int32_array, (void **)&start, &lstart) &&
           typed_array(env, args[7], napi_int32_array, (void **)&group_of, &lgroup) && typed_array(env, args[8], napi_float64_array, (void **)&centres64, &l64) &&
           napi_typeof(env, args[9], &driftType) == napi_ok && (driftType == napi_null || typed_array(env, args[9], napi_float64_array, (void **)&drift, &ldrift)) &&
           typed_array(env, args[10], napi_int32_array, (void **)&labels, &llabels) && typed_array(env, args[11], napi_float64_array, (void **)&upper, &lupper) &&
           typed_array(env, args[12], napi_float64_array, (void **)&lower, &llower);
  size_t n = ok ? lx / (size_t)d : 0, k = ok ? lc / (size_t)d : 0, groups = ok && lstart > 0 ? lstart - 1 : 0;
  ok = ok && n >= 1 && k >= 1 && groups >= 1 && lx == n * (size_t)d && lxn == n && lc == k * (size_t)d && lcn == k && lorder == k && lgroup == k && l64 == k * (size_t)d &&
       (drift == 0 || ldrift == k) && llabels == n && lupper == n && llower == n * groups && start[0] == 0 && (size_t)start[groups] == k;
  for (size_t g = 0; ok && g < groups; g++) ok = start[g] <= start[g + 1];
  for (size_t j = 0; ok && j < k; j++) ok = order[j] >= 0 && (size_t)order[j] < k && group_of[j] >= 0 && (size_t)group_of[j] < groups;
  for (size_t i = 0; ok && drift && i < n; i++) ok = labels[i] >= 0 && (size_t)labels[i] < k;
  if (!ok) {
    napi_throw_type_error(env, 0, "pul_native.kmeansStep(x, d, xnorms, centres, cnorms, order, start, groupOf, centres64, drift, labels, upper, lower): bad arguments");
    return 0;
  }
  pul_kmeans_step_t s = {x, (int)n, (int)d, xnorms, centres, cnorms, order, start, (int)groups, group_of, centres64, drift, labels, upper, lower};
  double work = pul_kmeans_step(&s);
  if (work < 0) {
    napi_throw_error(env, 0, "pul_native.kmeansStep: out of memory");
    return 0;
  }
  CHECK(napi_create_double(env, work, &result));
  return result;
}

/* kmeansAccumulate(x, d, labels, previous, sums, counts): see kmeans.h */
static napi_value kmeans_accumulate(napi_env env, napi_callback_info info) {
  napi_value args[6];
  size_t argc = 6, lx, ll, lp, ls, lc;
  float *x;
  int32_t *labels, *previous;
  double *sums, *counts;
  int64_t d;
  CHECK(napi_get_cb_info(env, info, &argc, args, 0, 0));
  int ok = argc == 6 && float_array(env, args[0], &x, &lx) && int_at(env, args[1], &d) && d >= 1 && typed_array(env, args[2], napi_int32_array, (void **)&labels, &ll) &&
           typed_array(env, args[3], napi_int32_array, (void **)&previous, &lp) && typed_array(env, args[4], napi_float64_array, (void **)&sums, &ls) &&
           typed_array(env, args[5], napi_float64_array, (void **)&counts, &lc);
  size_t n = ok ? lx / (size_t)d : 0;
  ok = ok && lx == n * (size_t)d && ll == n && lp == n && lc >= 1 && ls == lc * (size_t)d;
  for (size_t i = 0; ok && i < n; i++) ok = labels[i] >= 0 && (size_t)labels[i] < lc && previous[i] >= -1 && previous[i] < (int64_t)lc;
  if (!ok) {
    napi_throw_type_error(env, 0, "pul_native.kmeansAccumulate(x, d, labels, previous, sums, counts): bad arguments");
    return 0;
  }
  pul_kmeans_accumulate(x, (int)n, (int)d, labels, previous, sums, counts);
  return 0;
}

/* hamming(q BigUint64Array, g BigUint64Array, words, out Float32Array, path): out[i·G + j] = popcount(q_i XOR g_j); path −1 auto, 0 portable, 1 popcnt, 2 avx512 */
static napi_value hamming(napi_env env, napi_callback_info info) {
  napi_value args[5];
  size_t argc = 5, lq, lg, lo;
  uint64_t *q, *g;
  float *out;
  int64_t words, path;
  CHECK(napi_get_cb_info(env, info, &argc, args, 0, 0));
  int ok = argc == 5 && typed_array(env, args[0], napi_biguint64_array, (void **)&q, &lq) && typed_array(env, args[1], napi_biguint64_array, (void **)&g, &lg) &&
           int_at(env, args[2], &words) && words >= 1 && float_array(env, args[3], &out, &lo) && int_at(env, args[4], &path);
  size_t nq = ok ? lq / (size_t)words : 0, ng = ok ? lg / (size_t)words : 0;
  ok = ok && lq == nq * (size_t)words && lg == ng * (size_t)words && lo == nq * ng && nq < (1u << 31) && ng < (1u << 31);
  if (!ok) {
    napi_throw_type_error(env, 0, "pul_native.hamming(q, g, words, out, path): bad arguments");
    return 0;
  }
  if (nq > 0 && ng > 0 && pul_hamming(q, (int)nq, g, (int)ng, (int)words, out, (int)path) != 0) {
    napi_throw_error(env, 0, "pul_native.hamming: this CPU does not have that path");
    return 0;
  }
  return 0;
}

/* hammingRank(q, g, words, gPids, gCams, qPids, qCams, removeSameCamera, counts, offsets, matchDist, equalBefore, path): see hamming.h */
static napi_value hamming_rank(napi_env env, napi_callback_info info) {
  napi_value args[13];
  size_t argc = 13, lq, lg, lgp, lgc, lqp, lqc, lcount, loff, lmd, leb;
  uint64_t *q, *g;
  int32_t *gpids, *gcams, *qpids, *qcams, *counts, *offsets, *match_dist, *equal_before;
  int64_t words, remove, path;
  CHECK(napi_get_cb_info(env, info, &argc, args, 0, 0));
  int ok = argc == 13 && typed_array(env, args[0], napi_biguint64_array, (void **)&q, &lq) && typed_array(env, args[1], napi_biguint64_array, (void **)&g, &lg) &&
           int_at(env, args[2], &words) && words >= 1 && typed_array(env, args[3], napi_int32_array, (void **)&gpids, &lgp) &&
           typed_array(env, args[4], napi_int32_array, (void **)&gcams, &lgc) && typed_array(env, args[5], napi_int32_array, (void **)&qpids, &lqp) &&
           typed_array(env, args[6], napi_int32_array, (void **)&qcams, &lqc) && int_at(env, args[7], &remove) &&
           typed_array(env, args[8], napi_int32_array, (void **)&counts, &lcount) && typed_array(env, args[9], napi_int32_array, (void **)&offsets, &loff) &&
           typed_array(env, args[10], napi_int32_array, (void **)&match_dist, &lmd) && typed_array(env, args[11], napi_int32_array, (void **)&equal_before, &leb) &&
           int_at(env, args[12], &path);
  size_t nq = ok ? lq / (size_t)words : 0, ng = ok ? lg / (size_t)words : 0, bins = ok && nq > 0 ? lcount / nq : 0;
  ok = ok && nq >= 1 && lq == nq * (size_t)words && lg == ng * (size_t)words && lgp == ng && lgc == ng && lqp == nq && lqc == nq && lcount == nq * bins &&
       bins >= (size_t)words * 64 + 1 && loff == nq + 1 && lmd == leb && nq < (1u << 31) && ng < (1u << 31) && offsets[0] == 0 && (size_t)offsets[nq] == lmd;
  for (size_t i = 0; ok && i < nq; i++) ok = offsets[i] <= offsets[i + 1];
  if (!ok) {
    napi_throw_type_error(env, 0, "pul_native.hammingRank(q, g, words, gPids, gCams, qPids, qCams, removeSameCamera, counts, offsets, matchDist, equalBefore, path): bad arguments");
    return 0;
  }
  pul_hamming_rank_t r = {q, g, (int)nq, (int)ng, (int)words, (int)bins, gpids, gcams, qpids, qcams, (int)remove, counts, offsets, match_dist, equal_before};
  if (pul_hamming_rank(&r, (int)path) != 0) {
    napi_throw_error(env, 0, "pul_native.hammingRank: this CPU does not have that path");
    return 0;
  }
  return 0;
}

/* topkRows(dots, rows, n, norms, first, cap, stride, skip, idx, dist): see knn.h */
static napi_value topk_rows(napi_env env, napi_callback_info info) {
  napi_value args[10];
  size_t argc = 10, ldots, lnorms, lidx, ldist;
  float *dots, *dist;
  double *norms;
  int32_t *idx;
  int64_t v[6];
  CHECK(napi_get_cb_info(env, info, &argc, args, 0, 0));
  int ok = argc == 10 && float_array(env, args[0], &dots, &ldots) && int_at(env, args[1], &v[0]) && int_at(env, args[2], &v[1]) &&
           typed_array(env, args[3], napi_float64_array, (void **)&norms, &lnorms) && int_at(env, args[4], &v[2]) && int_at(env, args[5], &v[3]) &&
           int_at(env, args[6], &v[4]) && int_at(env, args[7], &v[5]) && typed_array(env, args[8], napi_int32_array, (void **)&idx, &lidx) && float_array(env, args[9], &dist, &ldist);
  int64_t rows = v[0], n = v[1], first = v[2], cap = v[3], stride = v[4], skip = v[5];
  ok = ok && rows >= 0 && n >= 1 && n < (1ll << 31) && first >= 0 && first + rows <= n && cap >= 0 && skip >= 0 && skip + cap <= stride &&
       (size_t)(rows * n) <= ldots && (size_t)n == lnorms && (size_t)(n * stride) == lidx && lidx == ldist;
  if (!ok) {
    napi_throw_type_error(env, 0, "pul_native.topkRows(dots, rows, n, norms, first, cap, stride, skip, idx, dist): bad arguments");
    return 0;
  }
  pul_topk_rows(dots, (int)rows, (int)n, norms, (int)first, (int)cap, (int)stride, (int)skip, idx, dist);
  return 0;
}

/* hammingPaths() → bit p set when Hamming path p runs here (auto takes the highest) */
static napi_value hamming_paths(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  CHECK(napi_create_int32(env, pul_hamming_paths(), &result));
  return result;
}
/* sgemmPackB(b Float32Array, packed Float32Array, n, k, transB): op(b) (k×n) packed for sgemmPacked; returns
   the floats the packing needs (nothing written when `packed` is shorter: call with an empty array to size it). */
static napi_value sgemm_pack_b(napi_env env, napi_callback_info info) {
  napi_value args[5], result;
  size_t argc = 5, lb, lp;
  float *b, *packed;
  int64_t n, k, tb;
  CHECK(napi_get_cb_info(env, info, &argc, args, 0, 0));
  if (argc < 5 || !float_array(env, args[0], &b, &lb) || !float_array(env, args[1], &packed, &lp) || !int_at(env, args[2], &n) || !int_at(env, args[3], &k) ||
      !int_at(env, args[4], &tb) || n < 0 || k < 0 || !inside(0, k * n, lb)) {
    napi_throw_type_error(env, 0, "pul_native.sgemmPackB(b, packed, n, k, transB): bad arguments");
    return 0;
  }
  size_t need = pul_sgemm_packed_b_length((int)n, (int)k);
  if (lp >= need) pul_sgemm_pack_b((int)n, (int)k, b, tb ? (int)k : (int)n, (int)tb, packed);
  CHECK(napi_create_double(env, (double)need, &result));
  return result;
}

/* sgemmPacked(a, packed, c, m, n, k, transA): c = op(a)·B on every core, B packed by sgemmPackB (same bits as sgemm). */
static napi_value sgemm_packed(napi_env env, napi_callback_info info) {
  napi_value args[7];
  size_t argc = 7, la, lp, lc;
  float *a, *packed, *c;
  int64_t m, n, k, ta;
  CHECK(napi_get_cb_info(env, info, &argc, args, 0, 0));
  if (argc < 7 || !float_array(env, args[0], &a, &la) || !float_array(env, args[1], &packed, &lp) || !float_array(env, args[2], &c, &lc) ||
      !int_at(env, args[3], &m) || !int_at(env, args[4], &n) || !int_at(env, args[5], &k) || !int_at(env, args[6], &ta) || m < 0 || n < 0 || k < 0 ||
      !inside(0, m * k, la) || lp < pul_sgemm_packed_b_length((int)n, (int)k) || !inside(0, m * n, lc)) {
    napi_throw_type_error(env, 0, "pul_native.sgemmPacked(a, packed, c, m, n, k, transA): bad arguments");
    return 0;
  }
  pul_sgemm_packed_parallel((int)m, (int)n, (int)k, a, ta ? (int)m : (int)k, (int)ta, packed, c, (int)n);
  return 0;
}

static napi_value threads(napi_env env, napi_callback_info info) {
  napi_value args[1], result;
  size_t argc = 1;
  CHECK(napi_get_cb_info(env, info, &argc, args, 0, 0));
  if (argc == 1) {
    int64_t n;
    if (int_at(env, args[0], &n)) pul_set_threads((int)n);
  }
  CHECK(napi_create_int32(env, pul_threads(), &result));
  return result;
}

static napi_value simd(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  CHECK(napi_get_boolean(env, pul_sgemm_uses_avx2(), &result));
  return result;
}

/* isa(): the GEMM micro-kernel's instruction set; isa(name): use that one ('auto': the widest this CPU has),
   throws when this CPU cannot run it. */
static napi_value isa(napi_env env, napi_callback_info info) {
  napi_value args[1], result;
  size_t argc = 1;
  CHECK(napi_get_cb_info(env, info, &argc, args, 0, 0));
  if (argc == 1) {
    char name[16] = {0};
    size_t len = 0;
    if (napi_get_value_string_utf8(env, args[0], name, sizeof name, &len) != napi_ok) {
      napi_throw_type_error(env, 0, "pul_native.isa(name): name must be a string");
      return 0;
    }
    int wanted = -2;
    if (strcmp(name, "auto") == 0) wanted = -1;
    for (int i = PUL_ISA_SCALAR; i <= PUL_ISA_AVX512; i++)
      if (strcmp(name, pul_gemm_isa_name(i)) == 0) wanted = i;
    if (wanted == -2 || pul_gemm_set_isa(wanted) != 0) {
      napi_throw_error(env, 0, "pul_native.isa(name): this CPU (or build) cannot run that instruction set");
      return 0;
    }
  }
  CHECK(napi_create_string_utf8(env, pul_gemm_isa_name(pul_gemm_isa()), NAPI_AUTO_LENGTH, &result));
  return result;
}

/* The instruction sets isa(name) accepts on this CPU, narrowest first. */
static napi_value isas(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result, item;
  CHECK(napi_create_array(env, &result));
  uint32_t at = 0;
  for (int i = PUL_ISA_SCALAR; i <= PUL_ISA_AVX512; i++) {
    if (!pul_gemm_isa_supported(i)) continue;
    CHECK(napi_create_string_utf8(env, pul_gemm_isa_name(i), NAPI_AUTO_LENGTH, &item));
    CHECK(napi_set_element(env, result, at++, item));
  }
  return result;
}

NAPI_MODULE_INIT() {
  struct { const char *name; napi_callback fn; } fns[] = {
      {"conv2d", conv2d}, {"conv2dBackpropInput", backprop_input}, {"conv2dBackpropFilter", backprop_filter},
      {"sgemm", sgemm}, {"sgemmPackB", sgemm_pack_b}, {"sgemmPacked", sgemm_packed}, {"threads", threads}, {"avx2", simd}, {"isa", isa}, {"isas", isas}, {"channelSum", channel_sum}, {"broadcastChannels", broadcast_channels}, {"channelAffine", channel_affine},
      {"batchNormGrad", batch_norm_grad}, {"maxPoolGrad", max_pool_grad}, {"elementwise", elementwise}, {"batchMatMul", batch_mat_mul}, {"kmeansStep", kmeans_step}, {"kmeansAccumulate", kmeans_accumulate},
      {"hamming", hamming}, {"hammingRank", hamming_rank}, {"hammingPaths", hamming_paths}, {"topkRows", topk_rows},
      {"batchNormTraining", batch_norm_training}, {"batchNormTrainingGrad", batch_norm_training_grad},
      {"sgdMomentum", sgd_momentum}, {"maxPool", max_pool},
  };
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value f;
    if (napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, 0, &f) != napi_ok) return 0;
    if (napi_set_named_property(env, exports, fns[i].name, f) != napi_ok) return 0;
  }
  return exports;
}
