#ifndef OCTOPUS_CPROCESSCONTROL_H
#define OCTOPUS_CPROCESSCONTROL_H

/// Asks the kernel to send `signal` to this process when its parent dies (Linux prctl
/// PR_SET_PDEATHSIG). Returns 0 on success, -1 where unsupported or on error.
int octopus_set_parent_death_signal(int signal);

/// Tunes glibc's allocator for a process whose engines grow large arrays (does nothing
/// elsewhere); call before the first allocation that matters.
void octopus_tune_allocator(void);

/// Writes the CPUs the calling thread may run on (its affinity mask) into `cpus`, at most
/// `capacity`, in increasing order. Returns how many, or -1 where unsupported or on error.
int octopus_allowed_cpus(int *cpus, int capacity);

/// Restricts the calling thread — and the threads and processes it starts afterwards — to the
/// `count` CPUs in `cpus` (Linux sched_setaffinity). Returns 0 on success, -1 otherwise.
int octopus_pin_thread(const int *cpus, int count);

/// The CPU the calling thread is running on now, or -1 where unknown.
int octopus_current_cpu(void);

#endif
