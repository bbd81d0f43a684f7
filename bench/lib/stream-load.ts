// Many concurrent SSE streams, in their own process:
//   node --import tsx bench/lib/stream-load.ts <config.json>   → prints one STREAM_JSON line
//
// Stream i opens its own connection at t0 + i × rampMs / streams, writes one pre-built POST and
// reads the answer as raw bytes. Every "\n\n" after the response head ends one SSE event (chunked
// framing is "\r\n", so it never forms one); the event's arrival time is when the bytes that end
// it were read. Time to first token: request written → first event. Inter-chunk gap: between
// consecutive data events of one stream (the final `data: [DONE]` leaves with the last chunk and
// is not a gap). Raw sockets keep the generator's own cost per chunk small: on two shared cores it
// is what limits the absolute figures.
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StreamLoadConfig {
  port: number;
  /** sent as Host */
  host: string;
  path: string;
  headers: Record<string, string>;
  body: string;
  streams: number;
  /** stream starts spread evenly over this time */
  rampMs: number;
  /** data events each stream must deliver (the upstream's max_tokens) */
  chunks: number;
  /** gaps only between events that both arrived after every stream was started */
  steadyOnly: boolean;
  /** a stream not finished this long after the last start counts as an error */
  timeoutMs: number;
}

export interface StreamLoadResult {
  streams: number;
  completed: number;
  /** status ≠ 200, socket errors, streams short of their chunks */
  errors: number;
  /** data events received in all */
  chunks: number;
  ttfbP50Ms: number;
  ttfbP99Ms: number;
  gapP50Ms: number;
  gapP99Ms: number;
  gapP999Ms: number;
  gapMaxMs: number;
  gaps: number;
  /** most streams open at once */
  openPeak: number;
  seconds: number;
}

const NL = 0x0a;
const HEAD_END = Buffer.from('\r\n\r\n');

interface StreamState {
  sentAt: number;
  lastEventAt: number;
  events: number;
  headDone: boolean;
  head: Buffer | null;
  prevNewline: boolean;
  done: boolean;
}

export function runStreamLoad(config: StreamLoadConfig): Promise<StreamLoadResult> {
  const headers: Record<string, string> = { Host: config.host, ...config.headers, 'Content-Length': String(Buffer.byteLength(config.body)) };
  let head = `POST ${config.path} HTTP/1.1\r\n`;
  for (const [k, v] of Object.entries(headers)) head += `${k}: ${v}\r\n`;
  const request = Buffer.from(`${head}\r\n${config.body}`);

  const ttfb: number[] = [];
  const gaps: number[] = [];
  let errors = 0;
  let completed = 0;
  let chunks = 0;
  let open = 0;
  let openPeak = 0;
  let finished = 0;
  let steadyFrom = Infinity;
  const sockets = new Set<net.Socket>();

  return new Promise((done) => {
    const t0 = performance.now();
    let settled = false;
    const finish = () => {
      if (settled) return;
      settled = true;
      clearTimeout(deadline);
      for (const s of sockets) s.destroy();
      errors += config.streams - finished;
      ttfb.sort((a, b) => a - b);
      gaps.sort((a, b) => a - b);
      const at = (list: number[], p: number) => list[Math.min(list.length - 1, Math.max(0, Math.ceil((p / 100) * list.length) - 1))] ?? 0;
      done({
        streams: config.streams,
        completed,
        errors,
        chunks,
        ttfbP50Ms: at(ttfb, 50),
        ttfbP99Ms: at(ttfb, 99),
        gapP50Ms: at(gaps, 50),
        gapP99Ms: at(gaps, 99),
        gapP999Ms: at(gaps, 99.9),
        gapMaxMs: gaps[gaps.length - 1] ?? 0,
        gaps: gaps.length,
        openPeak,
        seconds: (performance.now() - t0) / 1000,
      });
    };
    const deadline = setTimeout(finish, config.rampMs + config.timeoutMs);

    const end = (socket: net.Socket, s: StreamState, ok: boolean) => {
      if (s.done) return;
      s.done = true;
      finished++;
      open--;
      if (ok) completed++;
      else errors++;
      sockets.delete(socket);
      socket.destroy();
      if (finished === config.streams) finish();
    };

    const onEvent = (s: StreamState, now: number) => {
      s.events++;
      if (s.events > config.chunks) return; // [DONE]
      chunks++;
      if (s.events === 1) ttfb.push(now - s.sentAt);
      else if (!config.steadyOnly || s.lastEventAt >= steadyFrom) gaps.push(now - s.lastEventAt);
      s.lastEventAt = now;
    };

    const start = () => {
      const s: StreamState = { sentAt: 0, lastEventAt: 0, events: 0, headDone: false, head: null, prevNewline: false, done: false };
      const socket = net.connect({ host: '127.0.0.1', port: config.port, noDelay: true });
      sockets.add(socket);
      open++;
      if (open > openPeak) openPeak = open;
      socket.on('connect', () => {
        s.sentAt = performance.now();
        socket.write(request);
      });
      socket.on('data', (buf: Buffer) => {
        const now = performance.now();
        let from = 0;
        if (!s.headDone) {
          const joined = s.head ? Buffer.concat([s.head, buf]) : buf;
          const headEnd = joined.indexOf(HEAD_END);
          if (headEnd === -1) {
            s.head = joined;
            return;
          }
          if (joined.toString('latin1', 9, 12) !== '200') {
            end(socket, s, false);
            return;
          }
          s.headDone = true;
          s.head = null;
          buf = joined;
          from = headEnd + 4;
        }
        for (let i = buf.indexOf(NL, from); i !== -1; i = buf.indexOf(NL, i + 1)) {
          if (i > from ? buf[i - 1] === NL : s.prevNewline) onEvent(s, now);
        }
        s.prevNewline = buf[buf.length - 1] === NL;
        if (s.events > config.chunks) end(socket, s, true);
      });
      socket.on('error', () => end(socket, s, false));
      socket.on('close', () => end(socket, s, s.events > config.chunks));
    };

    const interval = config.rampMs / config.streams;
    let started = 0;
    const tick = () => {
      const due = Math.min(config.streams, Math.floor((performance.now() - t0) / interval) + 1);
      while (started < due) {
        start();
        started++;
      }
      if (started < config.streams) setTimeout(tick, Math.max(1, interval));
      else steadyFrom = performance.now();
    };
    tick();
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const config = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as StreamLoadConfig;
  void runStreamLoad(config).then((result) => {
    process.stdout.write(`STREAM_JSON ${JSON.stringify(result)}\n`);
    process.exit(0);
  });
}
