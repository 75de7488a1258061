/**
 * A loopback HTTP proxy between the AWS SDK and the S3 server that injects the failures real
 * object stores and networks produce — 503 SlowDown, 500 InternalError, connections reset before
 * or during an answer, and requests that are never answered — so tests can prove that backups
 * and restores still complete (and that without retries the fault would have failed them).
 *
 * Requests pass through unchanged: method, path and query, every header including Host. SigV4
 * signs the Host header, and the client signs the proxy's host:port, so rewriting it would
 * break signatures on servers that check them (radosgw). Bodies are streamed both ways, never
 * held whole, so multi-megabyte parts cost no memory here.
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

export type Fault =
  /** 503 with S3's <Error><Code>SlowDown</Code>: throttling, which clients must back off from */
  | 'slowdown'
  /** 500 InternalError: S3 asks clients to simply retry these */
  | 'internal'
  /** the client socket is destroyed: before the request reaches the server, after the server
   * handled it but before any answer (the write happened, the client cannot know), or after
   * the headers and part of the body (the SDK has already returned the response then) */
  | 'reset'
  /** the request is read, then nothing is answered for stallMs: only a client timeout helps */
  | 'stall';

export const ALL_FAULTS: readonly Fault[] = ['slowdown', 'internal', 'reset', 'stall'];

export interface ProxiedRequest {
  method: string;
  /** path and query, as the client sent it */
  url: string;
  /** 1 for the first request this proxy received */
  n: number;
}

/** Decides per request: a fault to inject, or null to forward the request as is. */
export type FaultPlan = (req: ProxiedRequest) => Fault | null;

/** The flavours of 'reset', used in turn (see ResetCounts). */
export type ResetFlavour = keyof ResetCounts;

/** How many resets of each flavour were injected. */
export interface ResetCounts {
  /** before the request reached the server */
  beforeRequest: number;
  /** after the server answered, before the client saw any byte of the answer */
  afterUpstream: number;
  /** after the headers and part of a body */
  midBody: number;
}

export interface FaultProxy {
  /** http://127.0.0.1:PORT */
  endpoint: string;
  /** 127.0.0.1:PORT */
  host: string;
  /** faults injected so far, by kind */
  injected: Record<Fault, number>;
  resets: ResetCounts;
  /** requests received so far (faulted or not) */
  requests: number;
  setPlan(plan: FaultPlan): void;
  /** stops listening and ends every socket, stalled ones included */
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** default: no faults */
  plan?: FaultPlan;
  /** how long a stalled request stays unanswered before its socket is destroyed (default 30 s) */
  stallMs?: number;
  /** the reset flavours to rotate through (default all three, in ResetCounts order) */
  resetFlavours?: ResetFlavour[];
}

/** Request n gets a fault when n is a multiple of `n`; the faults are used in turn. */
export function everyNth(n: number, faults: readonly Fault[]): FaultPlan {
  if (!(n >= 1) || faults.length === 0) throw new Error('everyNth: n >= 1 and at least one fault');
  return ({ n: i }) => (i % n === 0 ? (faults[(i / n - 1) % faults.length] ?? null) : null);
}

/**
 * Each request fails with probability `rate`, with a fault picked uniformly from `faults`;
 * seeded, so a failing run can be replayed (as far as request order is deterministic).
 */
export function seededRandomPlan(seed: number, rate: number, faults: readonly Fault[] = ALL_FAULTS): FaultPlan {
  const next = mulberry32(seed);
  return () => {
    const roll = next();
    const pick = next();
    return roll < rate ? (faults[Math.floor(pick * faults.length)] ?? null) : null;
  };
}

/** A tiny seeded PRNG (public-domain mulberry32): enough for picking faults. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Hop-by-hop headers describe one connection, not the message; each side sets its own. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer']);

/** rawHeaders (name, value, name, value…) minus hop-by-hop ones: keeps case, order, duplicates. */
function endToEnd(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    if (!HOP_BY_HOP.has(name.toLowerCase())) out.push([name, raw[i + 1]!]);
  }
  return out;
}

function s3ErrorXml(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message><RequestId>${requestId}</RequestId><HostId>fault-proxy</HostId></Error>`;
}

export async function startFaultProxy(target: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const upstream = new URL(target);
  if (upstream.protocol !== 'http:') throw new Error(`fault proxy: only http targets (got ${target})`);
  const stallMs = options.stallMs ?? 30_000;
  let plan: FaultPlan = options.plan ?? (() => null);
  const flavours: ResetFlavour[] = options.resetFlavours?.length ? options.resetFlavours : ['beforeRequest', 'afterUpstream', 'midBody'];
  let resetTurn = 0;
  let closing = false;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  // keep-alive to the server, like the SDK's own agent, so the proxy adds no connection churn
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });

  const server = createServer();
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    // a destroyed socket may still see an error; the client is the one meant to notice
    socket.on('error', () => {});
  });
  server.on('clientError', (_err, socket) => socket.destroy());

  /** Sends the request on, calls back with the answer (or destroys the client socket on failure). */
  const forward = (req: IncomingMessage, res: ServerResponse, onAnswer: (answer: IncomingMessage) => void): void => {
    const out = httpRequest({
      host: upstream.hostname,
      port: upstream.port || 80,
      method: req.method,
      path: req.url,
      agent,
      setHost: false,
    });
    // The raw names and values, not req.headers: Node would join duplicates and lowercase names.
    for (const [name, value] of endToEnd(req.rawHeaders)) appendHeader(out, name, value);
    out.on('response', onAnswer);
    out.on('error', () => res.destroy());
    // the client gave up (timeout, reset fault, close()): abandon the server side too
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
    });
    req.pipe(out);
  };

  const relay = (res: ServerResponse, answer: IncomingMessage): void => {
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.rawHeaders).flat());
    answer.pipe(res);
    answer.on('error', () => res.destroy());
  };

  const sendError = (req: IncomingMessage, res: ServerResponse, status: number, code: string, message: string): void => {
    // Read the whole request first: answering while the client still uploads would race its
    // writes against our close, and make the fault look like a reset instead.
    req.resume();
    req.on('end', () => {
      const id = `FP${Date.now().toString(16).toUpperCase()}`;
      const body = req.method === 'HEAD' ? '' : s3ErrorXml(code, message, id);
      res.writeHead(status, { 'Content-Type': 'application/xml', 'Content-Length': Buffer.byteLength(body), 'x-amz-request-id': id });
      res.end(body);
    });
  };

  const stall = (req: IncomingMessage, res: ServerResponse): void => {
    req.resume();
    const timer = setTimeout(() => {
      timers.delete(timer);
      res.destroy();
    }, stallMs);
    timers.add(timer);
    res.on('close', () => {
      clearTimeout(timer);
      timers.delete(timer);
    });
  };

  const reset = (req: IncomingMessage, res: ServerResponse): void => {
    const flavour = flavours[resetTurn++ % flavours.length];
    if (flavour === 'beforeRequest') {
      proxy.resets.beforeRequest++;
      res.destroy();
      return;
    }
    forward(req, res, (answer) => {
      const length = Number(answer.headers['content-length'] ?? NaN);
      const hasBody = req.method !== 'HEAD' && answer.statusCode !== 204 && answer.statusCode !== 304 && (length > 1 || (Number.isNaN(length) && answer.headers['transfer-encoding'] !== undefined));
      if (flavour === 'afterUpstream' || !hasBody) {
        proxy.resets.afterUpstream++;
        answer.resume();
        res.destroy();
        return;
      }
      proxy.resets.midBody++;
      res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer.rawHeaders).flat());
      // cut halfway through a known length, or inside the first chunk of an unknown one
      let left = Number.isNaN(length) ? -1 : Math.floor(length / 2);
      let cut = false;
      answer.on('data', (chunk: Buffer) => {
        if (cut) return;
        if (left >= 0 && chunk.length < left) {
          left -= chunk.length;
          // respect the client's pace: never hold more than a socket buffer here
          if (!res.write(chunk)) {
            answer.pause();
            res.once('drain', () => answer.resume());
          }
          return;
        }
        cut = true;
        const take = left >= 0 ? left : Math.max(1, Math.floor(chunk.length / 2));
        res.write(chunk.subarray(0, take), () => res.destroy());
        answer.destroy();
      });
      answer.on('error', () => res.destroy());
    });
  };

  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (closing) {
      res.destroy();
      return;
    }
    // an aborted upload emits 'error' on the request; the client already knows
    req.on('error', () => {});
    res.on('error', () => {});
    proxy.requests++;
    const fault = plan({ method: req.method ?? 'GET', url: req.url ?? '/', n: proxy.requests });
    if (fault) proxy.injected[fault]++;
    switch (fault) {
      case 'slowdown':
        return sendError(req, res, 503, 'SlowDown', 'Please reduce your request rate.');
      case 'internal':
        return sendError(req, res, 500, 'InternalError', 'We encountered an internal error. Please try again.');
      case 'stall':
        return stall(req, res);
      case 'reset':
        return reset(req, res);
      default:
        return forward(req, res, (answer) => relay(res, answer));
    }
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('fault proxy: no TCP address');
  const host = `127.0.0.1:${address.port}`;

  const proxy: FaultProxy = {
    endpoint: `http://${host}`,
    host,
    injected: { slowdown: 0, internal: 0, reset: 0, stall: 0 },
    resets: { beforeRequest: 0, afterUpstream: 0, midBody: 0 },
    requests: 0,
    setPlan(next: FaultPlan) {
      plan = next;
    },
    async close() {
      if (closing) return;
      closing = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const s of sockets) s.destroy();
      agent.destroy();
      await closed;
    },
  };
  return proxy;
}

/** setHeader would replace an earlier value of a repeated header; keep every one. */
function appendHeader(out: ReturnType<typeof httpRequest>, name: string, value: string): void {
  const prev = out.getHeader(name);
  if (prev === undefined) out.setHeader(name, value);
  else out.setHeader(name, Array.isArray(prev) ? [...prev.map(String), value] : [String(prev), value]);
}
