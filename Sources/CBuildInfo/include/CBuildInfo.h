#ifndef OCTOPUS_CBUILDINFO_H
#define OCTOPUS_CBUILDINFO_H

#include <stddef.h>

/// Copies the GNU build ID of the running executable (the linker's `.note.gnu.build-id`, which
/// `readelf -n` and `file` print) into `out`, at most `capacity` bytes. Returns its length, or 0
/// when the executable has none or the platform cannot tell.
size_t octopus_build_id(unsigned char *out, size_t capacity);

#endif
