import { describe, expect, it } from 'vitest';
import { isKlosetError } from '../../src/kloset/base/errors.js';
import type { ImportRecord, Importer, ScanHints } from '../../src/kloset/snapshot/importer.js';
import { ScanAhead } from '../../src/kloset/snapshot/scan-ahead.js';

/** A source of `n` error records (the simplest record) that counts how far it has walked. */
function source(n: number, opts: { failAt?: number; askHints?: boolean; walkAhead?: boolean } = {}) {
  const s = {
    walked: 0,
    finished: false,
    answers: [] as (string | undefined)[],
    importer: {
      type: 'test', origin: 'here', root: '/', walkAhead: opts.walkAhead ?? true,
      async *scan(signal?: AbortSignal, hints?: ScanHints): AsyncIterable<ImportRecord> {
        try {
          for (let i = 0; i < n; i++) {
            signal?.throwIfAborted();
            if (i === opts.failAt) throw new Error(`unreadable at ${i}`);
            if (opts.askHints && i === 0) s.answers.push((await hints?.previous?.('/0'))?.name);
            s.walked++;
            await new Promise((r) => setImmediate(r));
            yield { error: { path: `/${i}`, error: 'x' } };
          }
        } finally {
          s.finished = true;
        }
      },
    } satisfies Importer,
  };
  return s;
}

const until = async (cond: () => boolean) => {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setTimeout(r, 1));
};

async function drain(it: AsyncIterable<ImportRecord>): Promise<string[]> {
  const out: string[] = [];
  for await (const r of it) out.push('error' in r ? r.error.path : r.item.path);
  return out;
}

describe('ScanAhead', () => {
  it('walks ahead up to its limit before the backup asks, then yields every record in order', async () => {
    const s = source(50);
    const ahead = new ScanAhead(s.importer, undefined, 10);
    await until(() => s.walked >= 10);
    await new Promise((r) => setTimeout(r, 20));
    expect(s.walked).toBe(10); // paused at the limit
    expect(await drain(ahead.scan())).toEqual(Array.from({ length: 50 }, (_, i) => `/${i}`));
    expect(s.finished).toBe(true);
  });

  it('hands the hints over once the backup passes them (the source waits for them)', async () => {
    const s = source(3, { askHints: true });
    const ahead = new ScanAhead(s.importer);
    await new Promise((r) => setTimeout(r, 20));
    expect(s.walked).toBe(0); // still waiting for its first answer
    const hints: ScanHints = { previous: async (p) => ({ name: `prev of ${p}` }) as never };
    expect(await drain(ahead.scan(undefined, hints))).toHaveLength(3);
    expect(s.answers).toEqual(['prev of /0']);
  });

  it('passes the records before a failing walk on, then its error', async () => {
    const ahead = new ScanAhead(source(10, { failAt: 4 }).importer);
    const got: string[] = [];
    await expect((async () => { for await (const r of ahead.scan()) got.push('error' in r ? r.error.path : ''); })()).rejects.toThrow('unreadable at 4');
    expect(got).toEqual(['/0', '/1', '/2', '/3']);
  });

  it('stop() ends the walk, and a backup that still reads gets CANCELLED, never a partial tree', async () => {
    const s = source(100_000);
    const ahead = new ScanAhead(s.importer, undefined, 5);
    await until(() => s.walked >= 5);
    ahead.stop();
    await until(() => s.finished);
    expect(s.finished).toBe(true);
    const e = await drain(ahead.scan()).catch((x: unknown) => x);
    expect(isKlosetError(e, 'CANCELLED')).toBe(true);
  });

  it('a backup that ends early (cancel) ends the walk too', async () => {
    const s = source(100_000);
    const ahead = new ScanAhead(s.importer, undefined, 5);
    const ctl = new AbortController();
    let n = 0;
    const run = (async () => { for await (const _ of ahead.scan(ctl.signal)) if (++n === 3) ctl.abort(); })();
    await expect(run).rejects.toThrow();
    await until(() => s.finished);
    expect(s.finished).toBe(true);
    expect(s.walked).toBeLessThan(20);
  });

  it('a source whose records are not cheap (no walkAhead) is not walked before the backup asks', async () => {
    const s = source(20, { walkAhead: false, askHints: true });
    const ahead = new ScanAhead(s.importer);
    await new Promise((r) => setTimeout(r, 20));
    expect(s.walked).toBe(0);
    const hints: ScanHints = { previous: async (p) => ({ name: `prev of ${p}` }) as never };
    expect(await drain(ahead.scan(undefined, hints))).toHaveLength(20);
    expect(s.answers).toEqual(['prev of /0']); // its own hints, straight through
  });

  it('an aborted signal given at the start stops the walk', async () => {
    const s = source(100_000);
    const ctl = new AbortController();
    const ahead = new ScanAhead(s.importer, ctl.signal, 5);
    ctl.abort();
    await until(() => s.finished);
    expect(s.finished).toBe(true);
    await expect(drain(ahead.scan(ctl.signal))).rejects.toThrow();
  });
});
