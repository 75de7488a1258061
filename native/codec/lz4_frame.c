/*
 * LZ4 frames on liblz4's frame API, in the shape the engine's own frame writer uses
 * (compression/lz4-frame.ts): independent 4 MiB blocks, content size and content checksum,
 * blocks stored raw when they do not shrink. Natively this runs 1.3–2× lz4_flex in WebAssembly
 * (with its copies in and out) on the local benchmark's files (`npm run bench:primitives`).
 */
#define LZ4F_STATIC_LINKING_ONLY /* LZ4F_getErrorCode and the error enum, exported by the shared library too */
#include <lz4.h>
#include <lz4frame.h>
#include <string.h>
#include "codec.h"

static LZ4F_preferences_t prefs_for(size_t len) {
  LZ4F_preferences_t p;
  memset(&p, 0, sizeof p);
  p.frameInfo.blockSizeID = LZ4F_max4MB;
  p.frameInfo.blockMode = LZ4F_blockIndependent;
  p.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled;
  p.frameInfo.contentSize = len;
  p.compressionLevel = 0; /* LZ4's fast mode, as lz4_flex */
  return p;
}

size_t kc_lz4_frame_bound(size_t len) {
  LZ4F_preferences_t p = prefs_for(len);
  return LZ4F_compressFrameBound(len, &p);
}

size_t kc_lz4_compress_frame(const uint8_t *in, size_t len, uint8_t *out, size_t cap) {
  LZ4F_preferences_t p = prefs_for(len);
  size_t r = LZ4F_compressFrame(out, cap, in, len, &p);
  return LZ4F_isError(r) ? 0 : r;
}

static int decompress_with(LZ4F_dctx *dctx, const uint8_t *in, size_t len, uint8_t *out, size_t out_len, int skip_checksum, const char **why) {
  LZ4F_decompressOptions_t opts;
  memset(&opts, 0, sizeof opts);
  opts.stableDst = 1; /* the whole output is one buffer */
  opts.skipChecksums = skip_checksum ? 1 : 0;
  size_t src = len, dst = out_len;
  size_t hint = LZ4F_decompress(dctx, out, &dst, in, &src, &opts);
  if (LZ4F_isError(hint)) {
    LZ4F_errorCodes code = LZ4F_getErrorCode(hint);
    *why = LZ4F_getErrorName(hint);
    if (code == LZ4F_ERROR_contentChecksum_invalid || code == LZ4F_ERROR_blockChecksum_invalid) return KC_LZ4_CHECKSUM;
    if (code == LZ4F_ERROR_frameSize_wrong) return KC_LZ4_SIZE;
    return KC_LZ4_CORRUPT;
  }
  if (hint != 0) {
    /* more input expected: either the frame is cut short or its output would not fit */
    if (dst == out_len && src < len) { *why = "frame decodes to more bytes than it declares"; return KC_LZ4_SIZE; }
    *why = "frame is truncated";
    return KC_LZ4_TRUNCATED;
  }
  if (src != len) { *why = "trailing bytes after the frame"; return KC_LZ4_TRAILING; }
  if (dst != out_len) { *why = "frame decodes to fewer bytes than it declares"; return KC_LZ4_SIZE; }
  return KC_LZ4_OK;
}

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/*
 * Independent blocks decoded by the block API straight into `out`, checksums not computed (the
 * caller checks the blob's MAC). Why not LZ4F_decompress: it decodes into `out` directly only
 * when the room left there is a whole maximum block (4 MiB); every smaller frame — nearly every
 * chunk — went through its internal buffer and a copy, two fresh pages written per page of
 * output (a 2.7 MB dirpack chunk: 1,320 page faults and 15 ms against 660 and ~7 ms).
 * Returns 1 when the frame decoded cleanly to exactly out_len bytes, 0 otherwise; on 0 the
 * frame API decodes it again to say what is wrong (`out` may hold partial output meanwhile).
 */
static int decode_blocks_direct(LZ4F_dctx *dctx, const uint8_t *in, size_t len, uint8_t *out, size_t out_len) {
  LZ4F_frameInfo_t info;
  size_t header = len;
  if (LZ4F_isError(LZ4F_getFrameInfo(dctx, &info, in, &header))) return 0;
  LZ4F_resetDecompressionContext(dctx); /* the frame API starts over if this path gives up */
  if (info.blockMode != LZ4F_blockIndependent || info.dictID != 0) return 0;
  size_t max_block = info.blockSizeID == LZ4F_max64KB ? 64 << 10 : info.blockSizeID == LZ4F_max256KB ? 256 << 10
                   : info.blockSizeID == LZ4F_max1MB ? 1 << 20 : 4 << 20;
  size_t block_trailer = info.blockChecksumFlag == LZ4F_blockChecksumEnabled ? 4 : 0;
  size_t pos = header, done = 0;
  for (;;) {
    if (len - pos < 4) return 0;
    uint32_t word = le32(in + pos);
    pos += 4;
    if (word == 0) break; /* end mark */
    size_t size = word & 0x7fffffffu;
    if (size > max_block || len - pos < size + block_trailer) return 0;
    if (word & 0x80000000u) {
      if (size > out_len - done) return 0;
      memcpy(out + done, in + pos, size);
      done += size;
    } else {
      size_t room = out_len - done;
      int n = LZ4_decompress_safe((const char *)in + pos, (char *)out + done, (int)size, (int)(room < max_block ? room : max_block));
      if (n < 0) return 0;
      done += (size_t)n;
    }
    pos += size + block_trailer;
  }
  if (info.contentChecksumFlag == LZ4F_contentChecksumEnabled) pos += 4;
  return pos == len && done == out_len;
}

/* A context per frame: its set-up is a small allocation against a megabyte of decoding, and a
 * per-thread one would outlive the encoder threads, which stop and restart when idle. */
int kc_lz4_decompress_frame(const uint8_t *in, size_t len, uint8_t *out, size_t out_len, int skip_checksum, const char **why) {
  *why = NULL;
  LZ4F_dctx *dctx;
  if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION))) { *why = "no memory"; return KC_LZ4_CORRUPT; }
  int rc = skip_checksum && decode_blocks_direct(dctx, in, len, out, out_len) ? KC_LZ4_OK
         : decompress_with(dctx, in, len, out, out_len, skip_checksum, why);
  LZ4F_freeDecompressionContext(dctx);
  return rc;
}
