#ifndef OCTOPUS_CZEROMQ_SHIM_H
#define OCTOPUS_CZEROMQ_SHIM_H
#include <zmq.h>
#endif
