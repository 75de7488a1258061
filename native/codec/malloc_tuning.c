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

/*
 * Gives the malloc heap's free pages back to the system (malloc_trim) when more than
 * `min_free` bytes of it are free: a backup's many small buffers leave holes in the main arena
 * that the allocator keeps resident and that grow with the number of files (45 of 103 MB free
 * near the end of a 16,000-file backup; docs/benchmarks.md, session 15). Only then: a trim
 * returns pages the next allocations fault in again. → bytes that were free, 0 when nothing was
 * trimmed, −1 when not glibc.
 */
double kc_trim_free_memory(double min_free) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 mi = mallinfo2();
  double free_bytes = (double)mi.fordblks;
  if (free_bytes <= min_free) return 0;
  malloc_trim(0);
  return free_bytes;
#else
  (void)min_free;
  return -1;
#endif
}
