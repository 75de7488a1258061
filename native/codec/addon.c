/*
 * Node-API glue of the native blob codec: object encryption on libgcrypt (object_cipher.c),
 * LZ4 frames on liblz4 (lz4_frame.c) and byte histograms for chunk entropy (byte_counts.c). The blob path of a backup is compress-then-encrypt of
 * every chunk and its restore the reverse; done in WebAssembly and through node:crypto per
 * 64 KiB record, those two steps (and their copies) were most of the encoder thread's time.
 *
 * Every function works on caller-owned Uint8Arrays (nothing is allocated here per call but
 * libgcrypt's cipher handles and liblz4's decompression context), so the JS side decides which buffers are reused. Node-API, not
 * V8's C++ API, keeps one binary loadable by any Node or Electron of the platform. Loading
 * fails when libgcrypt is older than 1.10 (no GCM-SIV); the engine then keeps its portable path.
 */
#define _GNU_SOURCE /* strerrorname_np */
#define NAPI_VERSION 8
#include <node_api.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "codec.h"

typedef struct { uint8_t *data; size_t len; } bytes;

static bool get_bytes(napi_env env, napi_value v, bytes *out) {
  bool is;
  if (napi_is_typedarray(env, v, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  size_t length;
  void *data;
  if (napi_get_typedarray_info(env, v, &type, &length, &data, NULL, NULL) != napi_ok || type != napi_uint8_array) return false;
  out->data = data;
  out->len = length;
  return true;
}

static napi_value usage(napi_env env, const char *msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}

static napi_value number(napi_env env, double n) {
  napi_value v;
  napi_create_double(env, n, &v);
  return v;
}

#define ARGS(n) \
  size_t argc = n; \
  napi_value argv[n]; \
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL); \
  if (argc != n) return usage(env, "wrong number of arguments")

/* sealObject(masterKey, random, plaintext, chunkSize, out) → 0 or a libgcrypt error code.
 * random: 32 + 12·records bytes; out: exactly the sealed size. */
static napi_value seal_object(napi_env env, napi_callback_info info) {
  ARGS(5);
  bytes mk, rnd, pt, out;
  uint32_t chunk;
  if (!get_bytes(env, argv[0], &mk) || !get_bytes(env, argv[1], &rnd) || !get_bytes(env, argv[2], &pt) ||
      napi_get_value_uint32(env, argv[3], &chunk) != napi_ok || !get_bytes(env, argv[4], &out))
    return usage(env, "sealObject(masterKey, random, plaintext, chunkSize, out)");
  if (mk.len != KC_KEY_SIZE || chunk < 16 || rnd.len != KC_KEY_SIZE + KC_NONCE_SIZE * ((pt.len + chunk - 1) / chunk) ||
      out.len != kc_sealed_size(pt.len, chunk))
    return usage(env, "sealObject: wrong buffer sizes");
  return number(env, kc_seal_object(mk.data, rnd.data, pt.data, pt.len, chunk, out.data));
}

/* openObject(masterKey, data, chunkSize, out) → 0; -1 the subkey does not unwrap; k > 0 record
 * k-1 fails its tag; < -1 internal. out: exactly the plaintext length (layout checked in JS). */
static napi_value open_object(napi_env env, napi_callback_info info) {
  ARGS(4);
  bytes mk, in, out;
  uint32_t chunk;
  if (!get_bytes(env, argv[0], &mk) || !get_bytes(env, argv[1], &in) ||
      napi_get_value_uint32(env, argv[2], &chunk) != napi_ok || !get_bytes(env, argv[3], &out))
    return usage(env, "openObject(masterKey, data, chunkSize, out)");
  if (mk.len != KC_KEY_SIZE || chunk < 16 || in.len < KC_WRAPPED_SIZE) return usage(env, "openObject: wrong buffer sizes");
  return number(env, kc_open_object(mk.data, in.data, in.len, chunk, out.data, out.len));
}

/* lz4FrameBound(length) → the largest frame compressing `length` bytes can give. */
static napi_value lz4_frame_bound(napi_env env, napi_callback_info info) {
  ARGS(1);
  double n;
  if (napi_get_value_double(env, argv[0], &n) != napi_ok || n < 0) return usage(env, "lz4FrameBound(length)");
  return number(env, (double)kc_lz4_frame_bound((size_t)n));
}

/* lz4CompressFrame(input, out) → frame length (0: out too small). */
static napi_value lz4_compress_frame(napi_env env, napi_callback_info info) {
  ARGS(2);
  bytes in, out;
  if (!get_bytes(env, argv[0], &in) || !get_bytes(env, argv[1], &out)) return usage(env, "lz4CompressFrame(input, out)");
  return number(env, (double)kc_lz4_compress_frame(in.data, in.len, out.data, out.len));
}

/* lz4DecompressFrame(frame, out, skipChecksum) → 0, or [status, reason] (KC_LZ4_*). */
static napi_value lz4_decompress_frame(napi_env env, napi_callback_info info) {
  ARGS(3);
  bytes in, out;
  bool skip;
  if (!get_bytes(env, argv[0], &in) || !get_bytes(env, argv[1], &out) || napi_get_value_bool(env, argv[2], &skip) != napi_ok)
    return usage(env, "lz4DecompressFrame(frame, out, skipChecksum)");
  const char *why;
  int rc = kc_lz4_decompress_frame(in.data, in.len, out.data, out.len, skip, &why);
  if (rc == KC_LZ4_OK) return number(env, 0);
  napi_value arr, reason;
  napi_create_array_with_length(env, 2, &arr);
  napi_set_element(env, arr, 0, number(env, rc));
  napi_create_string_utf8(env, why ? why : "invalid frame", NAPI_AUTO_LENGTH, &reason);
  napi_set_element(env, arr, 1, reason);
  return arr;
}

static bool get_typed(napi_env env, napi_value v, napi_typedarray_type want, size_t min, void **data) {
  bool is;
  napi_typedarray_type type;
  size_t length;
  return napi_is_typedarray(env, v, &is) == napi_ok && is &&
    napi_get_typedarray_info(env, v, &type, &length, data, NULL, NULL) == napi_ok && type == want && length >= min;
}

/* countBytes(data, counts) adds each byte value's count in data to counts (a Uint32Array of ≥ 256). */
static napi_value count_bytes(napi_env env, napi_callback_info info) {
  ARGS(2);
  bytes in;
  void *counts;
  if (!get_bytes(env, argv[0], &in) || !get_typed(env, argv[1], napi_uint32_array, 256, &counts))
    return usage(env, "countBytes(data: Uint8Array, counts: Uint32Array(256))");
  kc_count_bytes(in.data, in.len, counts);
  return NULL;
}

/* An Error shaped like Node's fs errors: code "ENOENT", message "ENOENT: no such file or
 * directory, lstat '/x'". */
static void throw_errno(napi_env env, int err, const char *syscall, const char *path) {
  char code[32], msg[4200];
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  const char *name = strerrorname_np(err);
  snprintf(code, sizeof code, "%s", name ? name : "EIO");
#else
  snprintf(code, sizeof code, "E%d", err);
#endif
  snprintf(msg, sizeof msg, "%s: %s, %s '%s'", code, strerror(err), syscall, path);
  napi_throw_error(env, code, msg);
}

/* itemStat(path, nums: Float64Array(6), big: BigUint64Array(3)) fills kc_item_stat's fields and
 * returns the item's user.* xattr names, or undefined when it has none (or is a symlink, which
 * Linux gives no user xattrs). Throws like Node's lstat when lstat fails; an item whose
 * attributes cannot be listed (a filesystem without them) has none. */
static napi_value item_stat(napi_env env, napi_callback_info info) {
  ARGS(3);
  double *nums;
  uint64_t *big;
  if (!get_typed(env, argv[1], napi_float64_array, KC_STAT_NUMS, (void **)&nums) ||
      !get_typed(env, argv[2], napi_biguint64_array, KC_STAT_BIG, (void **)&big))
    return usage(env, "itemStat(path: string, nums: Float64Array(6), big: BigUint64Array(3))");
  char path[4097];
  size_t len;
  if (napi_get_value_string_utf8(env, argv[0], path, sizeof path, &len) != napi_ok) return usage(env, "itemStat: path must be a string");
  if (len >= sizeof path - 1 || strlen(path) != len) {
    // longer than PATH_MAX, or a NUL inside: what lstat itself would refuse
    throw_errno(env, len >= sizeof path - 1 ? ENAMETOOLONG : ENOENT, "lstat", path);
    return NULL;
  }
  int err = kc_item_stat(path, nums, big);
  if (err) {
    throw_errno(env, err, "lstat", path);
    return NULL;
  }
  napi_value result;
  napi_get_undefined(env, &result);
  if (S_ISLNK((mode_t)nums[0])) return result;
  char buf[4096], *heap;
  ssize_t n = kc_xattr_list(path, buf, sizeof buf, &heap);
  const char *names = heap ? heap : buf;
  uint32_t count = 0;
  for (ssize_t i = 0; i < n;) {
    size_t l = strnlen(names + i, (size_t)(n - i));
    if (l > 5 && strncmp(names + i, "user.", 5) == 0) {
      if (count == 0) napi_create_array(env, &result);
      napi_value name;
      napi_create_string_utf8(env, names + i, l, &name);
      napi_set_element(env, result, count++, name);
    }
    i += (ssize_t)l + 1;
  }
  free(heap);
  return result;
}

/* tuneMalloc(mmapThreshold, arenaMax) → 1 applied, 0 not glibc, −1 refused (see malloc_tuning.c) */
static napi_value tune_malloc(napi_env env, napi_callback_info info) {
  ARGS(2);
  int32_t threshold, arenas;
  if (napi_get_value_int32(env, argv[0], &threshold) != napi_ok || napi_get_value_int32(env, argv[1], &arenas) != napi_ok)
    return usage(env, "tuneMalloc(mmapThreshold: number, arenaMax: number)");
  return number(env, kc_tune_malloc(threshold, arenas));
}

/* trimFreeMemory(minFreeBytes) → free bytes trimmed, 0 none, −1 not glibc (malloc_tuning.c) */
static napi_value trim_free_memory(napi_env env, napi_callback_info info) {
  ARGS(1);
  double min_free;
  if (napi_get_value_double(env, argv[0], &min_free) != napi_ok) return usage(env, "trimFreeMemory(minFreeBytes: number)");
  napi_value out;
  napi_create_double(env, kc_trim_free_memory(min_free), &out);
  return out;
}

static void export_fn(napi_env env, napi_value exports, const char *name, napi_callback cb) {
  napi_value fn;
  napi_create_function(env, name, NAPI_AUTO_LENGTH, cb, NULL, &fn);
  napi_set_named_property(env, exports, name, fn);
}

NAPI_MODULE_INIT() {
  if (!kc_gcrypt_init()) {
    napi_throw_error(env, NULL, "libgcrypt >= 1.10 is required (AES-GCM-SIV)");
    return NULL;
  }
  export_fn(env, exports, "sealObject", seal_object);
  export_fn(env, exports, "openObject", open_object);
  export_fn(env, exports, "lz4FrameBound", lz4_frame_bound);
  export_fn(env, exports, "lz4CompressFrame", lz4_compress_frame);
  export_fn(env, exports, "lz4DecompressFrame", lz4_decompress_frame);
  export_fn(env, exports, "countBytes", count_bytes);
  export_fn(env, exports, "itemStat", item_stat);
  export_fn(env, exports, "tuneMalloc", tune_malloc);
  export_fn(env, exports, "trimFreeMemory", trim_free_memory);
  return exports;
}
