import { it } from 'vitest';
import { compressFrameSync, decompressFrameSync } from 'lz4-napi';
import { xxhash32 } from 'hash-wasm';
import { lz4Codec } from '../../../src/kloset/compression/node/lz4.ts';
import { zstdCodec } from '../../../src/kloset/compression/node/zstd.ts';
const data = Buffer.alloc(300000, 7);
const f = compressFrameSync(data, { contentChecksum: true });
console.log('frame', f.length, [...f.subarray(0, 12)].map(x=>x.toString(16)));
// header checksum corruption
const g = Buffer.from(f); g[6] ^= 1;
try { decompressFrameSync(g); console.log('HC not checked'); } catch (e) { console.log('HC err', (e as Error).message); }
// clear content checksum flag and drop trailing 4 bytes, fix HC
async function hc(desc: Uint8Array) { const h = await xxhash32(desc, 0); return (parseInt(h, 16) >>> 8) & 0xff; }
const h: Buffer = Buffer.from(f.subarray(0, f.length - 4)); h[4] &= ~0x04; h[6] = await hc(h.subarray(4, 6));
try { const o = decompressFrameSync(h); console.log('no-cc ok', o.length); } catch (e) { console.log('no-cc err', (e as Error).message); }
// random data frame flip
const r = Buffer.from(crypto.getRandomValues(new Uint8Array(1000)));
const rf = compressFrameSync(r, { contentChecksum: true });
console.log('rand frame', rf.length, [...rf.subarray(0, 12)].map(x=>x.toString(16)));
const rf2 = Buffer.from(rf); rf2[20] ^= 4;
try { lz4Codec.decompress(rf2, 1<<20); console.log('ok?'); } catch (e) { console.log((e as any).code, (e as Error).message); }
// zstd
const z = zstdCodec.compress(data); console.log('zstd', z.length, [...z.subarray(0,8)].map(x=>x.toString(16)));
it("x", async () => {});
const m0 = process.memoryUsage().rss;
// hostile zstd: windowLog 27 (Window_Descriptor exponent 17 -> 10+17), no FCS, single block raw 1 byte
const hz = Buffer.from([0x28,0xb5,0x2f,0xfd, 0x00, (17<<3), 0x01|(0<<1)|(1<<3), 0, 0, 0x41]);
try { const o = zstdCodec.decompress(hz, 1<<20); console.log('hz ok', o.length); } catch (e) { console.log('hz', (e as any).code, (e as Error).message); }
console.log('rss delta MiB', (process.memoryUsage().rss - m0) / 2**20);
const hz2 = Buffer.from([0x28,0xb5,0x2f,0xfd, 0x00, (31<<3), 0x01|(0<<1)|(1<<3), 0, 0, 0x41]);
try { const o = zstdCodec.decompress(hz2, 1<<20); console.log('hz2 ok', o.length); } catch (e) { console.log('hz2', (e as any).code, (e as Error).message); }
