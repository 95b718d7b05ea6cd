#include "parallel.h"
#include <pthread.h>
#include <stdlib.h>
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

/* Static round-robin: worker w runs tasks w, w + workers, … in order. Which tasks a worker sums into its
 * partial results is then fixed, so floating-point results repeat exactly from run to run (--seed). */
static void run_tasks(const job_t *job, int worker) {
  for (int t = worker; t < job->tasks; t += job->workers) job->fn(job->ctx, t, worker);
}

/* A persistent pool (threads started once, then woken per job): starting threads per call cost tens of µs
 * each, and each new thread's malloc arena gave its freed buffers back to the kernel, so every call paid
 * page faults on fresh scratch memory. Pool threads keep their thread-local workspaces (pul_workspace). */
static pthread_mutex_t pool_lock = PTHREAD_MUTEX_INITIALIZER; /* one job at a time */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER, done = PTHREAD_COND_INITIALIZER;
static job_t current;
static unsigned long generation = 0;
static int pending = 0, started = 1; /* worker 0 is the caller */
static unsigned long first_generation[MAX_THREADS];

static void *worker_main(void *p) {
  int worker = (int)(long)p;
  pthread_mutex_lock(&state_lock);
  /* started under pool_lock before the job it was started for: every generation after this is its business */
  unsigned long seen = first_generation[worker];
  for (;;) {
    while (generation == seen) pthread_cond_wait(&wake, &state_lock);
    seen = generation;
    job_t job = current;
    if (worker >= job.workers) continue;
    pthread_mutex_unlock(&state_lock);
    run_tasks(&job, worker);
    pthread_mutex_lock(&state_lock);
    if (--pending == 0) pthread_cond_signal(&done);
  }
  return 0;
}

/* Workers 1..n-1 exist (as many as could start); returns how many workers a job can use. */
static int ensure_workers(int n) {
  while (started < n) {
    pthread_t id;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    first_generation[started] = generation;
    int ok = pthread_create(&id, &attr, worker_main, (void *)(long)started) == 0;
    pthread_attr_destroy(&attr);
    if (!ok) break;
    started++;
  }
  return started < n ? started : n;
}

void pul_parallel_for(int tasks, pul_task_fn fn, void *ctx) {
  int n = pul_threads();
  if (n > tasks) n = tasks;
  job_t job = {fn, ctx, tasks, n};
  /* one worker, or the pool busy (a nested or concurrent call): every worker's share in order, here */
  if (n <= 1 || pthread_mutex_trylock(&pool_lock) != 0) {
    for (int w = 0; w < n; w++) run_tasks(&job, w);
    return;
  }
  int workers = ensure_workers(n);
  pthread_mutex_lock(&state_lock);
  current = job;
  pending = workers - 1;
  generation++;
  pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&state_lock);
  run_tasks(&job, 0);
  for (int w = workers; w < n; w++) run_tasks(&job, w); /* shares of threads that could not start */
  pthread_mutex_lock(&state_lock);
  while (pending > 0) pthread_cond_wait(&done, &state_lock);
  pthread_mutex_unlock(&state_lock);
  pthread_mutex_unlock(&pool_lock);
}

/* Grow-only, per thread: the caller's and the pool threads' scratch memory outlives the call. */
#define SLOTS 6
static __thread float *slot_buf[SLOTS];
static __thread size_t slot_cap[SLOTS];

float *pul_workspace(int slot, size_t floats) {
  if (slot_cap[slot] < floats) {
    free(slot_buf[slot]);
    size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    slot_buf[slot] = aligned_alloc(64, bytes);
    slot_cap[slot] = slot_buf[slot] ? floats : 0;
  }
  return slot_buf[slot];
}
