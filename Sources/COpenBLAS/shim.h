// Debian's OpenBLAS (libopenblas-dev) provides the CBLAS interface; functional mode needs sgemm.
#include <cblas.h>
