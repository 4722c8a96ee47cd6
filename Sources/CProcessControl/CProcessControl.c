#define _GNU_SOURCE
#include "CProcessControl.h"
#if defined(__linux__)
#include <sched.h>
#include <malloc.h>
#include <sys/prctl.h>
#endif

int octopus_set_parent_death_signal(int signal) {
#if defined(__linux__)
    return prctl(PR_SET_PDEATHSIG, signal, 0, 0, 0);
#else
    (void)signal;
    return -1;
#endif
}

void octopus_tune_allocator(void) {
#if defined(__GLIBC__)
    // Keep blocks up to 32 MiB in the heap instead of mmap'ing and unmapping each (glibc's
    // threshold starts at 128 KiB and only grows after frees), keep up to 64 MiB of freed heap
    // instead of returning it at once, and grow the heap 16 MiB at a time: fewer system calls
    // and page faults while engines and trace buffers grow.
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
    mallopt(M_TOP_PAD, 16 * 1024 * 1024);
#endif
}

int octopus_allowed_cpus(int *cpus, int capacity) {
#if defined(__linux__)
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    int count = 0;
    for (int cpu = 0; cpu < CPU_SETSIZE && count < capacity; cpu++) {
        if (CPU_ISSET(cpu, &set)) cpus[count++] = cpu;
    }
    return count;
#else
    (void)cpus;
    (void)capacity;
    return -1;
#endif
}

int octopus_pin_thread(const int *cpus, int count) {
#if defined(__linux__)
    cpu_set_t set;
    CPU_ZERO(&set);
    for (int i = 0; i < count; i++) {
        if (cpus[i] >= 0 && cpus[i] < CPU_SETSIZE) CPU_SET(cpus[i], &set);
    }
    return sched_setaffinity(0, sizeof set, &set);
#else
    (void)cpus;
    (void)count;
    return -1;
#endif
}

int octopus_current_cpu(void) {
#if defined(__linux__)
    return sched_getcpu();
#else
    return -1;
#endif
}
