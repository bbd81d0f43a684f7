// `keygate start` as a child process (control plane and proxy in one process, as shipped), for the
// tests that measure the proxy while an attacker loads the control plane.
import { type ChildProcess, spawn } from 'node:child_process';
import { expect } from 'vitest';
import type { TestDatabase } from '../helpers/services.ts';

const BIN = new URL('../../bin/keygate.mjs', import.meta.url).pathname;
export const ADMIN = 'attack-test-admin-token-0123456789';

/** Starts it on port 0; `cleanups` gets what stops it. */
export async function startKeygateProcess(db: TestDatabase, cleanups: (() => Promise<unknown>)[]): Promise<{ graphql: string; proxy: string }> {
  const env = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', DATABASE_URL: db.url, KEYGATE_ADMIN_TOKEN: ADMIN, KEYGATE_PORT: '0', KEYGATE_PROXY_PORT: '0', KEYGATE_STATUS_PORT: '0', LOG_LEVEL: 'warn' };
  const child: ChildProcess = spawn(process.execPath, [BIN, 'start'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  cleanups.push(() => new Promise((resolve) => (child.exitCode !== null ? resolve(null) : (child.once('exit', resolve), child.kill('SIGTERM')))));
  let output = '';
  child.stderr!.on('data', (d) => (output += d));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`keygate did not start:\n${output}`)), 60_000);
    child.stdout!.on('data', (d) => {
      output += d;
      const graphql = /GraphiQL:\s+(\S+)/.exec(output)?.[1];
      const proxy = /Proxy:\s+(http:\/\/\S+)/.exec(output)?.[1];
      if (graphql && proxy) {
        clearTimeout(timer);
        resolve({ graphql, proxy });
      }
    });
    child.once('exit', () => reject(new Error(`keygate exited:\n${output}`)));
  });
}

export async function gql(url: string, token: string, body: unknown) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify(body) });
  return res.json() as Promise<any>;
}

/** Latencies of `count` healthz requests, one at a time, a few ms apart (or until `stop()` says so). */
export async function sampleHealthz(proxy: string, count: number, stop: () => boolean = () => false): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < count && !stop(); i++) {
    const started = performance.now();
    const res = await fetch(`${proxy}/-/healthz`);
    await res.arrayBuffer();
    latencies.push(performance.now() - started);
    expect(res.status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return latencies;
}

export const p95 = (values: number[]) => [...values].sort((a, b) => a - b)[Math.ceil(values.length * 0.95) - 1]!;
