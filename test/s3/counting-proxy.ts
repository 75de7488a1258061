/**
 * A loopback HTTP proxy in front of the test S3 server that measures, from outside the client,
 * how many request-body bytes are in flight at once: a request's Content-Length counts from the
 * moment its headers arrive until its answer has been sent back. A client cannot have fewer
 * bytes in memory than it has in requests not yet answered, so this is an independent lower
 * bound of what an uploader holds. Bodies are streamed both ways, never held here.
 */
import { Agent, createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';

export interface CountingProxy {
  /** 127.0.0.1:PORT */
  host: string;
  /** request-body bytes not yet answered, now and at most */
  inFlight: number;
  peak: number;
  /** answered requests, by kind: 'PUT part', 'PUT', 'POST', 'DELETE', 'GET', 'HEAD' */
  answered: Map<string, number>;
  /** called after each answer */
  onAnswer?: (kind: string, status: number) => void;
  resetPeak(): void;
  close(): Promise<void>;
}

function kindOf(req: IncomingMessage): string {
  const m = req.method ?? 'GET';
  return m === 'PUT' && /[?&]uploadId=/.test(req.url ?? '') ? 'PUT part' : m;
}

export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const upstream = new URL(target);
  const agent = new Agent({ keepAlive: true, maxSockets: Infinity });
  const sockets = new Set<Socket>();
  const proxy: CountingProxy = {
    host: '',
    inFlight: 0,
    peak: 0,
    answered: new Map(),
    resetPeak: () => {
      proxy.peak = proxy.inFlight;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      agent.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server = createServer((req, res) => {
    const length = Number(req.headers['content-length'] ?? 0) || 0;
    proxy.inFlight += length;
    if (proxy.inFlight > proxy.peak) proxy.peak = proxy.inFlight;
    let counted = true;
    const uncount = (status: number) => {
      if (!counted) return;
      counted = false;
      proxy.inFlight -= length;
      const kind = kindOf(req);
      if (status) {
        proxy.answered.set(kind, (proxy.answered.get(kind) ?? 0) + 1);
        proxy.onAnswer?.(kind, status);
      }
    };
    req.on('error', () => {});
    res.on('error', () => {});
    const headers = { ...req.headers };
    delete headers.connection;
    delete headers['keep-alive'];
    const out = httpRequest({ host: upstream.hostname, port: upstream.port || 80, method: req.method, path: req.url, headers, agent });
    out.on('response', (answer) => {
      const h = { ...answer.headers };
      delete h.connection;
      delete h['keep-alive'];
      delete h['transfer-encoding'];
      res.writeHead(answer.statusCode ?? 502, h);
      answer.pipe(res);
      answer.on('error', () => res.destroy());
      res.on('finish', () => uncount(answer.statusCode ?? 0));
    });
    out.on('error', () => res.destroy());
    res.on('close', () => {
      if (!res.writableFinished) out.destroy();
      uncount(0);
    });
    req.pipe(out);
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('counting proxy: no address');
  proxy.host = `127.0.0.1:${addr.port}`;
  return proxy;
}
