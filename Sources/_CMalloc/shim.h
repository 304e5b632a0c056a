#ifndef VIDEOSSL_CMALLOC_SHIM_H
#define VIDEOSSL_CMALLOC_SHIM_H
// glibc's allocator statistics (mallinfo2), which Swift's Glibc module does not export.
#if defined(__linux__)
#include <malloc.h>
#endif
#endif
