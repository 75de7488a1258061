import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isoTime } from '../../src/cli/format.js';
import { LineOutput } from '../../src/cli/line-output.js';

/** A stream that takes a write every few milliseconds, recording how much it held at most. */
function slowSink() {
  const got: string[] = [];
  let maxBuffered = 0;
  const sink = new Writable({
    highWaterMark: 16 * 1024,
    decodeStrings: false,
    write(chunk: string, _enc, done) {
      got.push(chunk);
      setTimeout(done, 2);
    },
  });
  const track = () => (maxBuffered = Math.max(maxBuffered, sink.writableLength));
  return { sink, got, track, max: () => maxBuffered };
}

describe('LineOutput', () => {
  it('writes every line in order, in few writes, and waits for a slow stream instead of queueing without bound', async () => {
    const { sink, got, track, max } = slowSink();
    const out = new LineOutput(sink);
    const lines = Array.from({ length: 50_000 }, (_, i) => `line ${i} ${'x'.repeat(i % 40)}\n`);
    for (const l of lines) {
      await out.add(l);
      track();
    }
    await out.flush();
    await new Promise<void>((ok) => sink.end(ok));
    expect(got.join('')).toBe(lines.join(''));
    const total = lines.join('').length;
    expect(got.length).toBeLessThan(total / 32_000); // batches, not a write per line
    // at most one batch beyond what the stream accepts before it says it is full
    expect(max()).toBeLessThanOrEqual(16 * 1024 + 64 * 1024 + 64);
  });

  it('flush with nothing gathered writes nothing', async () => {
    const { sink, got } = slowSink();
    await new LineOutput(sink).flush();
    expect(got).toHaveLength(0);
  });
});

describe('isoTime', () => {
  it('formats whole seconds in UTC and does not repeat a stale time for the next second', () => {
    expect(isoTime(1_700_000_000)).toBe('2023-11-14T22:13:20Z');
    expect(isoTime(1_700_000_000)).toBe('2023-11-14T22:13:20Z');
    expect(isoTime(1_700_000_001)).toBe('2023-11-14T22:13:21Z');
    expect(isoTime(0)).toBe('1970-01-01T00:00:00Z');
  });
});
