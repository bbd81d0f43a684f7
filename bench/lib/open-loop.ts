// Open-loop load at a fixed rate, wrk2-style, in its own process:
//   node --import tsx bench/lib/open-loop.ts <config.json>   → prints one JSON line
//
// Request i is due at t0 + i/rate on connection i mod C, whatever happened to earlier requests.
// When its connection is still waiting for an earlier answer, the request waits and its latency
// counts from the time it was due (so a stall of the server is not hidden: no coordinated
// omission); otherwise it is sent at once and its latency counts from the moment it was written
// (so the load generator's own timer lateness is not charged to the server).
// Raw sockets and pre-built request bytes keep the generator's own cost per request small.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LoadRequest } from './wrk.ts';

export interface OpenLoopConfig {
  host: string;
  port: number;
  requests: LoadRequest[];
  rate: number;
  connections: number;
  /** measured time; the warm-up before it is not recorded */
  seconds: number;
  warmupSeconds: number;
}

export interface OpenLoopResult {
  rate: number;
  sent: number;
  recorded: number;
  /** status ≥ 400, socket errors and answers missing at the end */
  errors: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

interface Conn {
  socket: net.Socket;
  /** start times (performance.now) of requests written and not yet answered, oldest first */
  inFlight: number[];
  /** due times of requests waiting for this connection */
  waiting: { due: number; index: number }[];
  buffer: Buffer;
}

function buildRequests(config: OpenLoopConfig): Buffer[] {
  return config.requests.map((r) => {
    const headers: Record<string, string> = { Host: r.host ?? `${config.host}:${config.port}`, ...r.headers, 'Content-Length': String(Buffer.byteLength(r.body)) };
    let head = `POST ${r.path} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
    return Buffer.from(`${head}\r\n${r.body}`);
  });
}

const CRLFCRLF = Buffer.from('\r\n\r\n');

/** Length of the first complete response in buf and its status, or null when incomplete. */
function parseResponse(buf: Buffer): { length: number; status: number } | null {
  const headEnd = buf.indexOf(CRLFCRLF);
  if (headEnd === -1) return null;
  const head = buf.toString('latin1', 0, headEnd);
  const status = Number(head.slice(9, 12));
  const bodyStart = headEnd + 4;
  const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (cl) {
    const length = bodyStart + Number(cl[1]);
    return buf.length >= length ? { length, status } : null;
  }
  if (/\r\ntransfer-encoding:\s*chunked/i.test(head)) {
    let at = bodyStart;
    for (;;) {
      const lineEnd = buf.indexOf('\r\n', at);
      if (lineEnd === -1) return null;
      const size = parseInt(buf.toString('latin1', at, lineEnd), 16);
      if (size === 0) {
        const end = buf.indexOf(CRLFCRLF, lineEnd - 2);
        return end === -1 ? null : { length: end + 4, status };
      }
      at = lineEnd + 2 + size + 2;
      if (at > buf.length) return null;
    }
  }
  return { length: bodyStart, status }; // no body (204, 304)
}

export function runOpenLoop(config: OpenLoopConfig): Promise<OpenLoopResult> {
  const requests = buildRequests(config);
  const interval = 1000 / config.rate;
  const latencies: number[] = [];
  let errors = 0;
  let sent = 0;
  let t0 = 0;
  let recordFrom = 0;
  let scheduleEnd = 0;

  const conns: Conn[] = [];
  const connect = (conn?: Conn): Conn => {
    const socket = net.connect({ host: config.host, port: config.port, noDelay: true });
    const c: Conn = conn ?? { socket, inFlight: [], waiting: [], buffer: Buffer.alloc(0) };
    c.socket = socket;
    c.buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      c.buffer = c.buffer.length === 0 ? chunk : Buffer.concat([c.buffer, chunk]);
      for (;;) {
        const r = parseResponse(c.buffer);
        if (r === null) break;
        c.buffer = c.buffer.subarray(r.length);
        const started = c.inFlight.shift();
        if (started === undefined) continue;
        const now = performance.now();
        if (r.status >= 400) errors++;
        else if (started >= recordFrom) latencies.push(now - started);
        const next = c.waiting.shift();
        if (next) write(c, next.index, next.due);
      }
    });
    // A request that fell due while its connection was (re)connecting goes out once it is up.
    socket.on('connect', () => {
      const next = c.inFlight.length === 0 ? c.waiting.shift() : undefined;
      if (next) write(c, next.index, next.due);
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      // Whatever was in flight on it is lost; the connection comes back for the rest of the run.
      errors += c.inFlight.length;
      c.inFlight = [];
      if (!finished) connect(c);
    });
    return c;
  };
  const write = (c: Conn, index: number, start: number) => {
    c.inFlight.push(start);
    c.socket.write(requests[index % requests.length]!);
    sent++;
  };

  let finished = false;
  return new Promise((resolve) => {
    for (let i = 0; i < config.connections; i++) conns.push(connect());
    let next = 0;
    const tick = () => {
      const now = performance.now();
      while (t0 + next * interval <= now && t0 + next * interval < scheduleEnd) {
        const due = t0 + next * interval;
        const c = conns[next % conns.length]!;
        if (c.inFlight.length > 0 || c.socket.connecting) c.waiting.push({ due, index: next });
        else write(c, next, performance.now());
        next++;
      }
      if (t0 + next * interval < scheduleEnd) setTimeout(tick, Math.max(0, t0 + next * interval - performance.now()));
      else setTimeout(finish, 2000); // answers still on their way
    };
    const finish = () => {
      finished = true;
      for (const c of conns) {
        errors += c.inFlight.length + c.waiting.length;
        c.socket.destroy();
      }
      latencies.sort((a, b) => a - b);
      const at = (p: number) => latencies[Math.min(latencies.length - 1, Math.max(0, Math.ceil((p / 100) * latencies.length) - 1))] ?? 0;
      resolve({
        rate: config.rate,
        sent,
        recorded: latencies.length,
        errors,
        p50Ms: at(50),
        p90Ms: at(90),
        p99Ms: at(99),
        p999Ms: at(99.9),
        maxMs: latencies[latencies.length - 1] ?? 0,
      });
    };
    // Connections first, then the schedule.
    setTimeout(() => {
      t0 = performance.now();
      recordFrom = t0 + config.warmupSeconds * 1000;
      scheduleEnd = recordFrom + config.seconds * 1000;
      tick();
    }, 200);
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as OpenLoopConfig;
  void runOpenLoop(config).then((result) => {
    process.stdout.write(`OPEN_LOOP_JSON ${JSON.stringify(result)}\n`);
    process.exit(0);
  });
}
