/**
 * The Node blob encoder: worker threads that hash, compress and encrypt chunks while the main
 * thread reads and chunks. Blobs travel as
 * transferred buffers (one memcpy on the way in). Falls back to encoding inline when a worker cannot start
 * (for instance where the TypeScript loader is unavailable).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ownsItsBuffer } from '../base/bytes.js';
import { KlosetError, type ErrorCode } from '../base/errors.js';
import type { Configuration } from '../repository/config.js';
import type { BlobEncoder, EncoderFactory, PreparedBlob } from '../repository/encoder.js';
import { BufferPool, MIN_POOLED } from './buffer-pool.js';
import { arenaBytes, OutputArena, type ArenaSlot } from './output-arena.js';

/**
 * Blobs smaller than this are encoded inline: posting one costs about as much as encoding it
 * (a message round trip against the per-blob subkey set-up and a few µs of hashing).
 */
const INLINE_BELOW = 4 * 1024;

/**
 * Worker threads hashing and encoding chunks: one fewer than the cores, at least one (on this
 * two-core machine kind a second worker measured slower: the main thread needs its core for
 * reading, chunking and the whole-file MAC). KLOSET_ENCODER_THREADS overrides; 0 = inline.
 */
export const workerEncoderFactory: EncoderFactory = (config, key, macKey, inline) => {
  const n = Number(process.env.KLOSET_ENCODER_THREADS ?? Math.max(1, availableParallelism() - 1));
  if (!(n >= 1)) return inline;
  const pool = new BufferPool();
  const outputs = new DecodedOutputs();
  const workers = Array.from({ length: n }, () => oneWorker(config, key, macKey, inline, pool, outputs));
  const load = new Array<number>(n).fill(0);
  /** Runs a job on the least loaded worker. */
  const onLeastLoaded = <T>(job: (w: BlobEncoder) => Promise<T>): Promise<T> => {
    let best = 0;
    for (let i = 1; i < n; i++) if (load[i]! < load[best]!) best = i;
    load[best]!++;
    return job(workers[best]!).finally(() => { load[best]!--; });
  };
  return {
    prepare: (data, handOver) => onLeastLoaded((w) => w.prepare(data, handOver)),
    buffer: (size) => pool.take(size),
    decode: (stored, maxSize, address) => onLeastLoaded((w) => w.decode!(stored, maxSize, address)),
    recycle: (decoded) => outputs.recycle(decoded),
    encode: (data) => onLeastLoaded((w) => w.encode!(data)),
    warm() {
      for (const w of workers) w.warm!();
    },
    threadsStarted: () => workers.reduce((n, w) => n + w.threadsStarted!(), 0),
    async close() {
      await Promise.all(workers.map((w) => w.close()));
    },
  };
};

/**
 * One worker, started on first use (read-only processes never start one) and stopped after a
 * second without work, so it never holds a finished process open.
 */
function oneWorker(config: Configuration, key: Uint8Array | null, macKey: Uint8Array, inline: BlobEncoder, pool: BufferPool, outputs: DecodedOutputs): BlobEncoder {
  const fallback = inline;
  let worker: Worker | null = null;
  /** the current worker has loaded its modules and said so (its `{ ready }` message); reset by `start` */
  let answering = false;
  let broken = false;
  let idleTimer: ReturnType<typeof setTimeout> | undefined;
  let nextId = 1;
  /**
   * `data` is null when the worker took the caller's buffer (handed over); `redo` runs the job
   * inline when the worker dies before answering (a decode always sends a copy)
   */
  interface Job { data: Uint8Array | null; bytes: number; redo: (data: Uint8Array) => void; resolve: (m: WorkerAnswer) => void; reject: (e: Error) => void }
  const waiting = new Map<number, Job>();
  /** bytes of the jobs waiting: what a new job queues behind */
  let queuedBytes = 0;

  // If the worker dies (or never starts), what it held is encoded here instead; a blob whose
  // buffer it took is gone with it, and its backup fails with that error (never a wrong blob).
  const fail = () => {
    broken = true;
    worker = null;
    for (const w of waiting.values()) {
      if (w.data) w.redo(w.data);
      else w.reject(new KlosetError('IO', 'the blob encoder thread stopped while encoding'));
    }
    waiting.clear();
    queuedBytes = 0;
  };

  const stop = () => {
    const w = worker;
    worker = null;
    if (w) {
      w.off('exit', fail);
      void w.terminate();
    }
  };

  const start = (): Worker | null => {
    try {
      const fromSources = import.meta.url.endsWith('.ts');
      const entry = new URL(fromSources ? './encode-worker.ts' : './encode-worker.js', import.meta.url);
      // the worker seals chunks into memory shared with this thread (output-arena.ts); each
      // worker gets a ring of its own, so one that died leaves its slots to the old ring
      const size = arenaBytes();
      const ring = size > 0 ? new OutputArena(size) : null;
      const data = { config, key, macKey, ...(ring ? { arena: ring.share } : {}) };
      const w = fromSources
        ? new Worker(new URL('./ts-worker.mjs', import.meta.url), { workerData: { ...data, entry: entry.href } })
        : new Worker(entry, { workerData: data });
      w.unref();
      answering = false;
      w.on('message', (m: WorkerAnswer) => {
        if (m.ready) {
          if (worker === w) answering = true;
          if (waiting.size === 0) idleStop();
          return;
        }
        if (m.id === undefined) return;
        const job = waiting.get(m.id);
        waiting.delete(m.id);
        if (job) queuedBytes -= job.bytes;
        if (m.input) pool.give(m.input.buffer as ArrayBuffer); // a pooled chunk buffer coming back
        // every slot is adopted in the order the worker took them, even one nobody waits for
        if (m.slot && ring) {
          const { view, release } = ring.adopt(m.slot);
          if (!job) release();
          else {
            m.data = view;
            m.release = release;
          }
        }
        if (job) {
          if (m.error !== undefined) job.reject(new KlosetError(m.code ?? 'IO', m.code ? m.error : `blob encoder: ${m.error}`));
          else job.resolve(m);
        }
        if (waiting.size === 0) idleStop();
      });
      w.on('error', fail);
      w.on('exit', fail);
      return w;
    } catch {
      broken = true;
      return null;
    }
  };

  /** Stops the worker after IDLE_MS without jobs. */
  const idleStop = () => {
    clearTimeout(idleTimer);
    idleTimer = setTimeout(() => { if (waiting.size === 0) stop(); }, IDLE_MS);
    idleTimer.unref?.();
  };

  /** The worker, started if needed; null when jobs run inline (it cannot start, or died). */
  const ready = (): Worker | null => {
    if (broken) return null;
    clearTimeout(idleTimer);
    return (worker ??= start());
  };

  /**
   * Posts a job. `data` itself moves to the worker when `move` (the caller gave it up), else a
   * copy goes and `data` is kept to run the job inline (`redo`) should the worker die.
   */
  const post = <T>(w: Worker, job: { spares?: ArrayBuffer[] | undefined; [k: string]: unknown }, data: Uint8Array, move: boolean, redo: (d: Uint8Array) => Promise<T>, answer: (m: WorkerAnswer) => T): Promise<T> => {
    let sent = data;
    if (!move) {
      sent = pool.take(data.length);
      sent.set(data);
    }
    const id = nextId++;
    // a pooled buffer comes back with the answer (`recycle`) to be given out again
    const recycle = pool.owns(sent);
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { data: move ? null : data, bytes: data.length, redo: (d) => redo(d).then(resolve, reject), resolve: (m) => resolve(answer(m)), reject });
      queuedBytes += data.length;
      w.postMessage({ ...job, id, data: sent, recycle }, [sent.buffer as ArrayBuffer, ...(job.spares ?? [])]);
    });
  };

  return {
    prepare(data, handOver) {
      const w = data.length < INLINE_BELOW ? null : ready();
      if (!w) return fallback.prepare(data);
      // a handed-over buffer that holds just these bytes (or a pooled one) moves to the worker as is
      const move = handOver === true && (ownsItsBuffer(data) || pool.owns(data));
      return post(w, {}, data, move, (d) => fallback.prepare(d), (m) => ({ mac: m.mac!, encoded: m.data!, entropy: m.entropy!, ...(m.release ? { release: m.release } : {}) }));
    },
    decode(stored, maxSize, address) {
      // A small blob would wait behind large chunks already queued in the worker (a restore of
      // large files keeps several there, ~1–3 ms each): then it is decoded here at once, which
      // for a native-codec blob under SMALL_BLOB costs tens of µs, and small files restore
      // while large ones do instead of after them. A queue of small blobs alone (a restore of
      // small objects into a bucket, whose requests keep this thread busy) stays on the worker.
      const backlogged = stored.length < SMALL_BLOB && queuedBytes >= BACKLOG_BYTES;
      // Nor does a small blob start a stopped worker: a thread (an isolate, its modules, ~12 MiB)
      // costs more than the few small blobs of a command that did not ask for one (warm) — an
      // unchanged re-backup reads a thousand dirpacks and encodes nothing: 0.1 s less CPU and
      // ~3,000 fewer page faults without it (docs/benchmarks.md, session 16).
      const idleSmall = worker === null && stored.length < SMALL_BLOB;
      const w = stored.length < INLINE_BELOW || backlogged || idleSmall ? null : ready();
      // Until a worker that was just started has loaded its modules (~0.45 s measured through
      // the TypeScript loader), decoding waits for nobody: the first chunk of a listing
      // or a `cat` is decoded here (a 1,000,000-entry directory's first 1,000 entries took
      // 450–600 ms behind the start-up, most of it waiting).
      if (!w || !answering) return fallback.decode!(stored, maxSize, address);
      // A read that is a whole buffer of its own (a local store's positioned read) moves to
      // the worker as is; a view into a larger one (a block cache) is copied. A view covering
      // a whole buffer can only be one made for this read: a packfile is always larger than
      // any of its blobs (Storage contract).
      // memory of chunks the caller is done with goes along, for the worker to decode into
      return post(w, { decode: { maxSize, address }, spares: outputs.spares() }, stored, ownsItsBuffer(stored), (d) => fallback.decode!(d, maxSize, address), (m) => outputs.adopt(m.data!));
    },
    encode(data) {
      // Even a 200-byte entry is worth posting: its inline encoding (a key wrap, two AES key
      // schedules and a POLYVAL) costs ~40 µs of this thread, a message ~10 µs. The caller
      // keeps its bytes (and they may be a view): a copy goes.
      // a stopped worker is not started for it, and one still loading is not waited for
      const w = worker === null ? null : ready();
      if (!w || !answering) return fallback.encode!(data);
      return post(w, { encodeOnly: true }, data, false, (d) => fallback.encode!(d), (m) => m.data!);
    },
    warm() {
      // started now, stopped again if no job comes within IDLE_MS of its start
      if (!worker && ready()) idleStop();
    },
    threadsStarted: () => (worker === null ? 0 : 1),
    async close() {
      clearTimeout(idleTimer);
      stop();
    },
  };
}

/**
 * Decoded chunks' memory on its way back to the workers: `adopt` notes the buffers decodes
 * returned, `recycle` takes back one the caller is done with, and `spares` hands a few to the
 * next decode job. Bounded: beyond WAITING_SPARE_BYTES a recycled buffer is left to the collector.
 */
class DecodedOutputs {
  private readonly decoded = new WeakSet<ArrayBuffer>();
  private readonly waiting: ArrayBuffer[] = [];
  private waitingBytes = 0;

  adopt(view: Uint8Array): Uint8Array {
    if (view.byteOffset === 0 && view.buffer.byteLength >= MIN_POOLED) this.decoded.add(view.buffer as ArrayBuffer);
    return view;
  }

  recycle(view: Uint8Array): void {
    const buf = view.buffer as ArrayBuffer;
    if (view.byteOffset !== 0 || !this.decoded.has(buf) || this.waitingBytes + buf.byteLength > WAITING_SPARE_BYTES) return;
    this.decoded.delete(buf); // given back once: a second recycle of it is ignored
    this.waiting.push(buf);
    this.waitingBytes += buf.byteLength;
  }

  spares(): ArrayBuffer[] | undefined {
    if (!this.waiting.length) return undefined;
    const out = this.waiting.splice(0, SPARES_PER_JOB);
    for (const b of out) this.waitingBytes -= b.byteLength;
    return out;
  }
}

/** Bytes of recycled buffers waiting here for a decode job to take them. */
const WAITING_SPARE_BYTES = 8 << 20;
/** Recycled buffers sent along with one decode job. */
const SPARES_PER_JOB = 2;

interface WorkerAnswer {
  ready?: boolean; id?: number; mac?: Uint8Array; data?: Uint8Array; input?: Uint8Array; entropy?: number; error?: string; code?: ErrorCode;
  /** where in the shared ring the result lies (then `data` is set here, and `release`) */
  slot?: ArenaSlot; release?: () => void;
}

/** Blobs up to this size are decoded on the calling thread when the worker is backlogged. */
const SMALL_BLOB = 256 * 1024;
/** Bytes of jobs waiting in a worker that make it backlogged for small blobs (two 1 MiB chunks). */
const BACKLOG_BYTES = 2 << 20;

/** A worker without work for this long is stopped (a new one starts when needed). */
const IDLE_MS = 1000;
