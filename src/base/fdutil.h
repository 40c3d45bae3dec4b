/* File descriptor helpers usable between clone and exec. */
#ifndef SBX_FDUTIL_H
#define SBX_FDUTIL_H

#include <stddef.h>

/* Close every fd >= 3 except those listed (negative entries ignored). */
void sbx_close_all_except(const int *keep, size_t n);

/* Zeroed anonymous memory, for code running in a process cloned from a
 * possibly threaded parent, where malloc's locks may be held forever.
 * NULL on failure. Such processes exit soon; the memory needs no free. */
void *sbx_map(size_t n);

#endif
