/* The C half of Kloset's blob codec (see addon.c for why it exists and how JS calls it). */
#ifndef KLOSET_CODEC_H
#define KLOSET_CODEC_H
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define KC_KEY_SIZE 32
#define KC_WRAPPED_SIZE 40
#define KC_NONCE_SIZE 12
#define KC_TAG_SIZE 16

/* object_cipher.c */
int kc_gcrypt_init(void);
size_t kc_sealed_size(size_t plain, size_t chunk);
/* Returns 0 or a libgcrypt error code. */
int kc_seal_object(const uint8_t *master_key, const uint8_t *random, const uint8_t *pt, size_t len, size_t chunk, uint8_t *out);
/* Returns 0; -1 when the subkey does not unwrap; k > 0 when record k-1 fails its tag;
 * -1000 - code on a libgcrypt failure. `out` is wiped on any failure. */
int kc_open_object(const uint8_t *master_key, const uint8_t *in, size_t in_len, size_t chunk, uint8_t *out, size_t out_len);

/* lz4_frame.c */
size_t kc_lz4_frame_bound(size_t len);
/* Frame length, or 0 on failure (out too small). */
size_t kc_lz4_compress_frame(const uint8_t *in, size_t len, uint8_t *out, size_t cap);
enum { KC_LZ4_OK = 0, KC_LZ4_CORRUPT = -1, KC_LZ4_CHECKSUM = -2, KC_LZ4_SIZE = -3, KC_LZ4_TRAILING = -4, KC_LZ4_TRUNCATED = -5 };
/* Decodes one whole frame into exactly out_len bytes; KC_LZ4_* status. */
int kc_lz4_decompress_frame(const uint8_t *in, size_t len, uint8_t *out, size_t out_len, int skip_checksum, const char **why);

/* item_stat.c: lstat into nums (mode, nlink, uid, gid, mtime sec, mtime nsec) and big (dev,
 * ino, size) → 0 or errno. */
#define KC_STAT_NUMS 6
#define KC_STAT_BIG 3
int kc_item_stat(const char *path, double nums[KC_STAT_NUMS], uint64_t big[KC_STAT_BIG]);
/* The item's xattr names (llistxattr: NUL-terminated, back to back) into buf, or into *heap
 * (malloc'd, the caller frees it) when they do not fit → their length, or −1 with errno. */
ssize_t kc_xattr_list(const char *path, char *buf, size_t cap, char **heap);

/* byte_counts.c: adds each byte value's count in data[0, len) to counts */
void kc_count_bytes(const uint8_t *data, size_t len, uint32_t counts[256]);

/* malloc_tuning.c: glibc's M_MMAP_THRESHOLD and M_ARENA_MAX (a value ≤ 0 leaves that one alone)
 * → 1 applied, 0 not glibc (nothing to do), −1 glibc refused a value */
int kc_tune_malloc(int mmap_threshold, int arena_max);
double kc_trim_free_memory(double min_free);
#endif
