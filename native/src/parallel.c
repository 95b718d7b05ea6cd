#include "parallel.h"
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#define MAX_THREADS 64

static int thread_count = 0;

int pul_threads(void) {
  if (thread_count <= 0) {
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    thread_count = n < 1 ? 1 : (n > MAX_THREADS ? MAX_THREADS : (int)n);
  }
  return thread_count;
}

void pul_set_threads(int threads) { thread_count = threads < 1 ? 1 : (threads > MAX_THREADS ? MAX_THREADS : threads); }

typedef struct {
  pul_task_fn fn;
  void *ctx;
  int tasks;
  atomic_int next;
} job_t;

typedef struct {
  job_t *job;
  int worker;
} worker_arg_t;

static void run_tasks(job_t *job, int worker) {
  for (;;) {
    int t = atomic_fetch_add(&job->next, 1);
    if (t >= job->tasks) return;
    job->fn(job->ctx, t, worker);
  }
}

static void *worker_main(void *p) {
  worker_arg_t *arg = p;
  run_tasks(arg->job, arg->worker);
  return 0;
}

/* Threads are started per call: the kernels that use this run for milliseconds, the start costs µs. */
void pul_parallel_for(int tasks, pul_task_fn fn, void *ctx) {
  job_t job = {fn, ctx, tasks, 0};
  int n = pul_threads();
  if (n > tasks) n = tasks;
  pthread_t ids[MAX_THREADS];
  worker_arg_t args[MAX_THREADS];
  int started = 0;
  for (int w = 1; w < n; w++) {
    args[w].job = &job;
    args[w].worker = w;
    if (pthread_create(&ids[w], 0, worker_main, &args[w]) == 0) started = w;
    else break;
  }
  run_tasks(&job, 0);
  for (int w = 1; w <= started; w++) pthread_join(ids[w], 0);
}
