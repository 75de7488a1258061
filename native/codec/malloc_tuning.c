/*
 * glibc malloc settings applied from inside the process (mallopt), so that the `kloset` command
 * no longer runs itself a second time just to set MALLOC_ARENA_MAX / MALLOC_MMAP_THRESHOLD_ in
 * its environment: that re-execution cost a Node start-up (0.1–0.4 s measured) on every command.
 * mallopt's settings take effect at once for later allocations and for arenas created later;
 * threads that already own an arena keep it. Other C libraries: nothing is changed.
 */
#include "codec.h"
#ifdef __GLIBC__
#include <malloc.h>
#endif

int kc_tune_malloc(int mmap_threshold, int arena_max) {
#ifdef __GLIBC__
  int ok = 1;
  if (arena_max > 0) ok &= mallopt(M_ARENA_MAX, arena_max);
  /* a fixed threshold also turns off glibc's dynamic threshold (which rises after each large free) */
  if (mmap_threshold > 0) ok &= mallopt(M_MMAP_THRESHOLD, mmap_threshold);
  return ok ? 1 : -1;
#else
  (void)mmap_threshold;
  (void)arena_max;
  return 0;
#endif
}
