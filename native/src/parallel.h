/* A minimal parallel-for: tasks 0..n-1 are handed out to `threads` workers (the caller is worker 0). */
#ifndef PUL_PARALLEL_H
#define PUL_PARALLEL_H
typedef void (*pul_task_fn)(void *ctx, int task, int worker);
void pul_parallel_for(int tasks, pul_task_fn fn, void *ctx);
int pul_threads(void);
void pul_set_threads(int threads);
#endif
