/*
 * clock-shift: an LD_PRELOAD library for the clock-step fault scenario. It moves a process's wall clock
 * (CLOCK_REALTIME, gettimeofday, time) by the number of seconds written in the file named by CLOCK_SHIFT_FILE,
 * read again at most every 100 ms, and leaves the monotonic clock alone, as a step of the system clock (NTP, an
 * operator's `date -s`) does. libfaketime does the same, but under it a Swift program loses its arguments.
 *
 *   cc -shared -fPIC -O2 -o clock-shift.so contrib/lib/clock-shift.c -ldl
 *   CLOCK_SHIFT_FILE=/tmp/shift LD_PRELOAD=./clock-shift.so program
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);

static _Atomic long shift_seconds;
static _Atomic long long next_read_ns;

static clock_gettime_fn real_clock_gettime(void) {
    static _Atomic(clock_gettime_fn) real;
    clock_gettime_fn fn = atomic_load(&real);
    if (!fn) {
        fn = (clock_gettime_fn)dlsym(RTLD_NEXT, "clock_gettime");
        atomic_store(&real, fn);
    }
    return fn;
}

static long current_shift(void) {
    struct timespec now;
    real_clock_gettime()(CLOCK_MONOTONIC, &now);
    long long ns = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
    if (ns >= atomic_load(&next_read_ns)) {
        atomic_store(&next_read_ns, ns + 100000000LL);
        const char *path = getenv("CLOCK_SHIFT_FILE");
        FILE *file = path ? fopen(path, "r") : NULL;
        if (file) {
            long seconds;
            if (fscanf(file, "%ld", &seconds) == 1) atomic_store(&shift_seconds, seconds);
            fclose(file);
        }
    }
    return atomic_load(&shift_seconds);
}

int clock_gettime(clockid_t clock, struct timespec *ts) {
    int result = real_clock_gettime()(clock, ts);
    if (result == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) ts->tv_sec += current_shift();
    return result;
}

int gettimeofday(struct timeval *restrict tv, void *restrict tz) {
    struct timespec ts;
    (void)tz;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
    if (tv) {
        tv->tv_sec = ts.tv_sec;
        tv->tv_usec = ts.tv_nsec / 1000;
    }
    return 0;
}

time_t time(time_t *out) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (out) *out = ts.tv_sec;
    return ts.tv_sec;
}
