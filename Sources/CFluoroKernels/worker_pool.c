// Fluoro's worker threads for Parallel's loops. Each loop hands out indices to the calling thread
// and up to `workers` persistent threads; a worker that finished a loop spins on the loop counter
// for a short while (the next loop of a training step usually follows within microseconds) before
// it sleeps on a condition variable. GCD's concurrentPerform woke a parked thread for every loop,
// 25-36 us per loop on the 2-core VM this was measured on (launch/bench-loop-handoff.swift,
// docs/BENCHMARKS.md, stop 22).
#include "fluoro_kernels.h"
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#if defined(__x86_64__)
#include <immintrin.h>
#define FK_PAUSE() _mm_pause()
#else
#define FK_PAUSE() ((void)0)
#endif

enum {
    FK_MAX_WORKERS = 255,
    FK_SPIN_ROUNDS = 1 << 13,  // a worker's wait for the next loop before it sleeps: 8192 pauses, 108 us here (launch/bench-pause.c)
    FK_WAIT_SPINS = 1 << 12,   // the caller's spins on unfinished workers before it yields the core between checks
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_long generation;   // +1 per loop handed to the workers
    atomic_long next;         // next index to run
    atomic_long remaining;    // indices not yet finished
    atomic_int finished;      // workers done with the current loop (the caller waits for all:
                              // no worker can then still be inside a loop when the next starts)
    atomic_int busy;          // 1 while a loop runs (a loop started inside one runs inline)
    atomic_int sleepers;      // workers waiting on `wake`
    atomic_int park;          // 1: spinning workers go to sleep now (other threads need the cores)
    long count;
    fk_pool_task task;
    void *context;
    int workers;              // started workers
} pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};

static void run_indices(void) {
    for (;;) {
        long i = atomic_fetch_add_explicit(&pool.next, 1, memory_order_relaxed);
        if (i >= pool.count) return;
        pool.task(pool.context, i);
        atomic_fetch_sub_explicit(&pool.remaining, 1, memory_order_release);
    }
}

static void *worker_main(void *start) {
    fk_flush_denormals();
    long seen = (long)(intptr_t)start;  // the generation when it was made: it waits for the next
    for (;;) {
        long now = atomic_load_explicit(&pool.generation, memory_order_acquire);
        for (int spin = 0; now == seen && spin < FK_SPIN_ROUNDS && !atomic_load_explicit(&pool.park, memory_order_relaxed); spin++) {
            FK_PAUSE();
            now = atomic_load_explicit(&pool.generation, memory_order_acquire);
        }
        if (now == seen) {  // idle: sleep until the next loop
            pthread_mutex_lock(&pool.lock);
            atomic_fetch_add(&pool.sleepers, 1);
            while ((now = atomic_load(&pool.generation)) == seen)
                pthread_cond_wait(&pool.wake, &pool.lock);
            atomic_fetch_sub(&pool.sleepers, 1);
            pthread_mutex_unlock(&pool.lock);
        }
        seen = now;
        run_indices();
        atomic_fetch_add_explicit(&pool.finished, 1, memory_order_release);
    }
    return NULL;
}

int fk_pool_workers(void) { return pool.workers; }

void fk_pool_park(void) { atomic_store_explicit(&pool.park, 1, memory_order_relaxed); }

long fk_pool_loops(void) { return atomic_load(&pool.generation); }

void fk_pool_reserve(int workers) {
    if (workers > FK_MAX_WORKERS) workers = FK_MAX_WORKERS;
    int idle = 0;
    while (!atomic_compare_exchange_weak(&pool.busy, &idle, 1)) { idle = 0; FK_PAUSE(); }  // no loop runs meanwhile
    const long generation = atomic_load(&pool.generation);
    while (pool.workers < workers) {
        pthread_t thread;
        if (pthread_create(&thread, NULL, worker_main, (void *)(intptr_t)generation) != 0) break;
        pthread_detach(thread);
        pool.workers++;
    }
    atomic_store(&pool.busy, 0);
}

int fk_pool_run(long count, fk_pool_task task, void *context) {
    int idle = 0;
    if (count <= 0) return 1;
    if (pool.workers == 0 || !atomic_compare_exchange_strong(&pool.busy, &idle, 1)) return 0;
    pool.count = count;
    pool.task = task;
    pool.context = context;
    atomic_store_explicit(&pool.next, 0, memory_order_relaxed);
    atomic_store_explicit(&pool.remaining, count, memory_order_relaxed);
    atomic_store_explicit(&pool.finished, 0, memory_order_relaxed);
    atomic_store_explicit(&pool.park, 0, memory_order_relaxed);
    // seq_cst: this store and the sleepers load below, against a worker's sleepers store and
    // generation load, must not pass each other (else a worker could sleep through the loop).
    atomic_fetch_add_explicit(&pool.generation, 1, memory_order_seq_cst);
    if (atomic_load(&pool.sleepers) > 0) {
        pthread_mutex_lock(&pool.lock);
        pthread_cond_broadcast(&pool.wake);
        pthread_mutex_unlock(&pool.lock);
    }
    run_indices();
    for (long spin = 0; atomic_load_explicit(&pool.remaining, memory_order_acquire) > 0 ||
                        atomic_load_explicit(&pool.finished, memory_order_acquire) < pool.workers; spin++) {
        if (spin < FK_WAIT_SPINS) FK_PAUSE(); else sched_yield();  // a worker off its core: let it back on
    }
    atomic_store_explicit(&pool.busy, 0, memory_order_release);
    return 1;
}
