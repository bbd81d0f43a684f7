// A forwarded request in flight: what the forwarder's owner sees of it (Forwarding, the hooks it is
// told through, the reader of a response body) and what the forwarder keeps of it (Flight). A
// flight hangs on the client's response, and once relayed on the upstream's, under one symbol, so
// the handlers every request shares find it without a closure of their own.
import type { ClientRequest, IncomingMessage, ServerResponse } from 'node:http';
import type { ProxyErrorCode } from './answers.ts';
import type { DeploymentEntry } from './auth-table.ts';
import type { Revocable } from './in-flight.ts';

export interface ForwardTimeouts {
  /** TCP connect to the upstream → 504 */
  connectTimeoutMs: number;
  /** request forwarded → response headers → 504 */
  headersTimeoutMs: number;
  /** silence between bytes of a response, once headers arrived → connection cut */
  idleTimeoutMs: number;
}

/** One forwarded request, as the server's hooks see it. */
export interface Forwarding {
  readonly deployment: DeploymentEntry;
  /** the key that authorized the request; null on an open deployment */
  readonly keyId: string | null;
  readonly requestId: string;
  readonly startedAt: number;
  /** the client's response (the access log's line hangs on it) */
  readonly res: ServerResponse;
}

export type UpstreamFailure = Extract<ProxyErrorCode, 'upstream_unavailable' | 'upstream_refused' | 'upstream_timeout'>;

/** Reads an upstream response's body as it is relayed to the client (usage metering). */
export interface BodyReader {
  /** a chunk of the body, handed over as it is written to the client */
  chunk(data: Buffer): void;
  /** the upstream response closed: its body ended or was cut */
  closed(): void;
}

export interface ForwardHooks {
  /** the upstream's headers are out to the client; what it returns reads the body relayed next */
  responded(f: Forwarding, statusCode: number, seconds: number, upstream: IncomingMessage): BodyReader | null;
  failed(f: Forwarding, code: UpstreamFailure, error: Error): void;
  /** the client left before the upstream's headers arrived */
  clientClosed(f: Forwarding): void;
}

/** Where requests admitted with a key are held while in flight, so a revocation can end them (in-flight.ts). */
export interface FlightRegistry {
  add(flight: Revocable): void;
  remove(flight: Revocable): void;
}

export interface Flight extends Forwarding {
  readonly deploymentId: string;
  readonly admittedHash: string | null;
  /** added to the answer's headers, whoever answers; upstream headers of the same names give way */
  readonly extraHeaders: readonly string[] | null;
  /** held in the flight registry (admitted with a key) */
  readonly tracked: boolean;
  readonly revoke: (this: Flight) => void;
  readonly release: (this: Flight) => void;
  revoked: boolean;
  proxyReq: ClientRequest | null;
  proxyRes: IncomingMessage | null;
  /** reads the body as it is relayed (null: nothing does) */
  reader: BodyReader | null;
  /** the relay listens for the client's 'drain' (added the first time the client's buffer filled) */
  drainHooked: boolean;
  /** the response is framed by chunks (no Content-Length): more can be written before its end */
  streaming: boolean;
  /** a chunk of the body was written to the client (the headers went with the first) */
  bodyStarted: boolean;
  timer: NodeJS.Timeout | null;
  timedOut: boolean;
  /** an answer or the upstream's headers went out, or the client left: nothing more to say */
  settled: boolean;
}

export const FLIGHT = Symbol('keygate.flight');
/** the client's response: its flight hangs on it */
export type WithFlight = ServerResponse & { [FLIGHT]?: Flight };
/** an upstream response being relayed: its flight hangs on it as on the client's response */
export type Relayed = IncomingMessage & { [FLIGHT]?: Flight };
