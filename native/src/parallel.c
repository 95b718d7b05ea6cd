#include "parallel.h"
#include <pthread.h>
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
  int workers;
} job_t;

typedef struct {
  job_t *job;
  int worker;
} worker_arg_t;

/* Static round-robin: worker w runs tasks w, w + workers, … in order. Which tasks a worker sums into its
 * partial results is then fixed, so floating-point results repeat exactly from run to run (--seed). */
static void run_tasks(job_t *job, int worker) {
  for (int t = worker; t < job->tasks; t += job->workers) job->fn(job->ctx, t, worker);
}

static void *worker_main(void *p) {
  worker_arg_t *arg = p;
  run_tasks(arg->job, arg->worker);
  return 0;
}

/* Threads are started per call: the kernels that use this run for milliseconds, the start costs µs. */
void pul_parallel_for(int tasks, pul_task_fn fn, void *ctx) {
  int n = pul_threads();
  if (n > tasks) n = tasks;
  job_t job = {fn, ctx, tasks, n};
  pthread_t ids[MAX_THREADS];
  worker_arg_t args[MAX_THREADS];
  int started[MAX_THREADS] = {0};
  for (int w = 1; w < n; w++) {
    args[w].job = &job;
    args[w].worker = w;
    started[w] = pthread_create(&ids[w], 0, worker_main, &args[w]) == 0;
  }
  run_tasks(&job, 0);
  for (int w = 1; w < n; w++) {
    if (started[w]) pthread_join(ids[w], 0);
    else run_tasks(&job, w); /* a thread that could not start: its share, under its id, here */
  }
}
