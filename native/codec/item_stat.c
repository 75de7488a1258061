/*
 * The fs source's per-item call (src/connectors/fs/native-stat.ts): lstat and the names of the
 * item's user.* extended attributes in one crossing. Through Node the same took lstatSync (a
 * BigIntStats of 18 BigInts) and @napi-rs/xattr, which calls llistxattr twice (size, then
 * names): 17.7 µs an item on this VM kind, the largest part of an unchanged re-backup.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include "codec.h"

int kc_item_stat(const char *path, double nums[KC_STAT_NUMS], uint64_t big[KC_STAT_BIG]) {
  struct stat st;
  if (lstat(path, &st) != 0) return errno;
  nums[0] = (double)st.st_mode;
  nums[1] = (double)st.st_nlink;
  nums[2] = (double)st.st_uid;
  nums[3] = (double)st.st_gid;
  nums[4] = (double)st.st_mtim.tv_sec;
  nums[5] = (double)st.st_mtim.tv_nsec;
  big[0] = (uint64_t)st.st_dev;
  big[1] = (uint64_t)st.st_ino;
  big[2] = (uint64_t)st.st_size;
  return 0;
}

ssize_t kc_xattr_list(const char *path, char *buf, size_t cap, char **heap) {
  *heap = NULL;
  ssize_t n = llistxattr(path, buf, cap);
  // a list longer than the caller's buffer: ask its size and read it into one of that size
  // (again if it grew meanwhile)
  while (n < 0 && errno == ERANGE) {
    free(*heap);
    *heap = NULL;
    ssize_t size = llistxattr(path, NULL, 0);
    if (size < 0) return -1;
    if (size == 0) return 0;
    *heap = malloc((size_t)size);
    if (!*heap) return -1;
    n = llistxattr(path, *heap, (size_t)size);
  }
  return n;
}
