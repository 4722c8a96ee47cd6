#ifndef OCTOPUS_CZLIB_SHIM_H
#define OCTOPUS_CZLIB_SHIM_H
#include <zlib.h>
#endif
