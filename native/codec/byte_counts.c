/*
 * Byte histograms for Chunk.entropy (src/kloset/base/entropy.ts): the encoder thread counts the
 * bytes of every chunk it encodes (small files whole, larger chunks by sample), ~600 MB/s in
 * JavaScript against a few GB/s here. Only the counting is native: the entropy itself is
 * computed from the counts in JS, so both paths give the same float to the last bit.
 */
#include <string.h>
#include "codec.h"

void kc_count_bytes(const uint8_t *data, size_t len, uint32_t counts[256]) {
  /* four interleaved histograms: a run of equal bytes would otherwise serialize on one counter */
  uint32_t c[4][256];
  memset(c, 0, sizeof c);
  size_t i = 0;
  for (; i + 4 <= len; i += 4) {
    c[0][data[i]]++;
    c[1][data[i + 1]]++;
    c[2][data[i + 2]]++;
    c[3][data[i + 3]]++;
  }
  for (; i < len; i++) c[0][data[i]]++;
  for (int b = 0; b < 256; b++) counts[b] += c[0][b] + c[1][b] + c[2][b] + c[3][b];
}
