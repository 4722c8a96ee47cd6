#ifndef OCTOPUS_CPROCESSCONTROL_H
#define OCTOPUS_CPROCESSCONTROL_H

/// Asks the kernel to send `signal` to this process when its parent dies (Linux prctl
/// PR_SET_PDEATHSIG). Returns 0 on success, -1 where unsupported or on error.
int octopus_set_parent_death_signal(int signal);

/// Tunes glibc's allocator for a process whose engines grow large arrays (does nothing
/// elsewhere); call before the first allocation that matters.
void octopus_tune_allocator(void);

#endif
