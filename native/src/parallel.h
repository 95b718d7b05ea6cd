/* A minimal parallel-for: tasks 0..n-1 are handed out to `threads` workers (the caller is worker 0). */
#ifndef PUL_PARALLEL_H
#define PUL_PARALLEL_H
#include <stddef.h>
typedef void (*pul_task_fn)(void *ctx, int task, int worker);
void pul_parallel_for(int tasks, pul_task_fn fn, void *ctx);
int pul_threads(void);
void pul_set_threads(int threads);
/* This thread's scratch buffer `slot` (0..5) of at least `floats` floats, 64-byte aligned, kept between
 * calls (contents undefined). Slots 0, 1: GEMM's packed A and B; 2..5: the convolutions' buffers (conv.c). */
float *pul_workspace(int slot, size_t floats);
#endif
