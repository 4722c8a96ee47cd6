#ifndef OCTOPUS_CCRYPTO_SHIM_H
#define OCTOPUS_CCRYPTO_SHIM_H
#include <openssl/evp.h>
#endif
