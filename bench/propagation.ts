// Propagation (issue 5, item 3): one `keygate control-plane` and two `keygate proxy` processes on
// one Postgres and one Redis; N alternating link/unlink mutations of one key on one guarded
// deployment, one after the other.
//
//  - mutation latency: the GraphQL round trip as the client sees it, which includes waiting for
//    both proxies' acks (the mutation returns its propagation { confirmed, appliedBy, expected });
//  - event-to-applied: this process subscribes to the feed's own Redis channels (`<prefix>changes`
//    and `<prefix>fleet`) and timestamps, on one clock, the moment the change event for revision r
//    arrives and the moment the fleet's floor announcement covering r arrives. Acks are aggregated:
//    the floor rises when the later of the two proxies has acked r, so the difference is delivery
//    to both proxies + apply + the last ack's trip through Redis: an upper bound of each proxy's
//    event-to-applied, never less;
//  - stale decisions: right after each mutation returns, one request through each proxy with the
//    key; a 200 after an unlink or a 401 after a link is stale.
import http from 'node:http';
import { CreateApiKey, CreateDeployment, CreateProject, LinkApiKey, UnlinkApiKey } from '../test/helpers/operations.ts';
import { CHAT_BODY } from './proxy-overhead.ts';
import { observeFeed } from './lib/feed-observer.ts';
import { freshDatabase, freshRedisPrefix, gql, startControlPlaneProcess, startProxyProcess } from './lib/keygate.ts';
import { sleep } from './lib/procs.ts';
import { percentile } from './lib/stats.ts';

export interface PropagationOptions {
  quick: boolean;
  upstreamPort: number;
  logDir: string;
  log: (line: string) => void;
}

const WARMUP_ROUNDS = 20;

export async function runPropagation(options: PropagationOptions): Promise<Record<string, number>> {
  const { quick, upstreamPort, logDir, log } = options;
  const rounds = quick ? 200 : 1000;
  const db = await freshDatabase();
  const prefix = freshRedisPrefix();

  // The feed as an outside observer sees it, subscribed before anything happens.
  const observer = await observeFeed(prefix);
  const { eventAt, fleetAt } = observer;
  try {
    const cp = await startControlPlaneProcess({ name: 'propagation-control-plane', databaseUrl: db.url, redisPrefix: prefix, cpu: null, logDir });
    const proxies = [
      await startProxyProcess({ name: 'propagation-proxy-1', databaseUrl: db.url, redisPrefix: prefix, cpu: null, logDir }),
      await startProxyProcess({ name: 'propagation-proxy-2', databaseUrl: db.url, redisPrefix: prefix, cpu: null, logDir }),
    ];

    const project = (await gql(cp.url, CreateProject, { slug: 'churn', name: 'churn' })).createProject.project;
    const key = (await gql(cp.url, CreateApiKey, { input: { projectId: project.id, name: 'churn-key' } })).createApiKey;
    const deployment = (
      await gql(cp.url, CreateDeployment, {
        input: { projectId: project.id, name: 'churn', model: 'llama-3-8b', upstreamUrl: `http://127.0.0.1:${upstreamPort}`, authEnabled: true },
      })
    ).createDeployment.deployment;

    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
    const status = (port: number) =>
      new Promise<number>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            path: `/churn/churn/v1/chat/completions`,
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'x-api-key': key.secret, 'content-length': Buffer.byteLength(CHAT_BODY) },
          },
          (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode ?? 0));
          },
        );
        req.setTimeout(5000, () => req.destroy(new Error('timeout')));
        req.on('error', reject);
        req.end(CHAT_BODY);
      });

    const input = { deploymentId: deployment.id, apiKeyId: key.apiKey.id };
    const mutationMs: number[] = [];
    // Where a mutation's time goes, seen from outside: request → its event on Redis (GraphQL,
    // transaction, commit, publish), event → the last proxy's ack, last ack → the answer.
    const toEvent: number[] = [];
    const eventToLastAck: number[] = [];
    const lastAckToAnswer: number[] = [];
    const measured: number[] = []; // revisions whose apply latency counts
    let stale = 0;
    let unconfirmed = 0;
    let decisions = 0;
    const started = performance.now();
    for (let round = 0; round < WARMUP_ROUNDS + rounds; round++) {
      const link = round % 2 === 0;
      const t0 = performance.now();
      const propagation = link
        ? (await gql(cp.url, LinkApiKey, { input })).linkApiKey.propagation
        : (await gql(cp.url, UnlinkApiKey, { input })).unlinkApiKey.propagation;
      const ms = performance.now() - t0;
      const statuses = await Promise.all(proxies.map((p) => status(p.port)));
      if (round < WARMUP_ROUNDS) continue;
      mutationMs.push(ms);
      measured.push(propagation.revision);
      const split = observer.split(propagation.revision, t0, t0 + ms);
      if (split) {
        toEvent.push(split.toEvent);
        eventToLastAck.push(split.eventToLastAck);
        lastAckToAnswer.push(split.lastAckToAnswer);
      }
      if (!propagation.confirmed || propagation.expected !== proxies.length) unconfirmed++;
      for (const s of statuses) {
        decisions++;
        if (s !== (link ? 200 : 401)) stale++;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    await sleep(200); // a last ack still on its way

    // Event → both proxies applied (the floor announcement), per measured revision.
    const latencies: number[] = [];
    let missing = 0;
    for (const revision of measured) {
      const at = fleetAt.get(revision);
      const ev = eventAt.get(revision);
      if (at === undefined || ev === undefined) missing++;
      else latencies.push(Math.max(0, at - ev));
    }
    const apply = { p50: percentile(latencies, 50), p99: percentile(latencies, 99), max: percentile(latencies, 100), missing };
    log(`  ${rounds} mutations in ${seconds.toFixed(1)} s: p50 ${percentile(mutationMs, 50).toFixed(1)} ms = request→event ${percentile(toEvent, 50).toFixed(1)} + event→last ack ${percentile(eventToLastAck, 50).toFixed(1)} + last ack→answer ${percentile(lastAckToAnswer, 50).toFixed(1)} (p50 each); apply p99 (the later proxy) ${apply.p99.toFixed(2)} ms`);

    agent.destroy();
    for (const p of proxies) await p.stop();
    await cp.stop();
    return {
      rounds,
      mutation_p50_ms: percentile(mutationMs, 50),
      mutation_p99_ms: percentile(mutationMs, 99),
      // event → the later of the two proxies applied it (the fleet floor's announcement)
      apply_p50_ms: apply.p50,
      apply_p99_ms: apply.p99,
      stale_decisions: stale,
      // extras
      decisions,
      unconfirmed_mutations: unconfirmed,
      mutation_max_ms: percentile(mutationMs, 100),
      request_to_event_p50_ms: percentile(toEvent, 50),
      request_to_event_p99_ms: percentile(toEvent, 99),
      event_to_last_ack_p50_ms: percentile(eventToLastAck, 50),
      event_to_last_ack_p99_ms: percentile(eventToLastAck, 99),
      last_ack_to_answer_p50_ms: percentile(lastAckToAnswer, 50),
      last_ack_to_answer_p99_ms: percentile(lastAckToAnswer, 99),
      apply_max_ms: apply.max,
      apply_missing_acks: apply.missing,
    };
  } finally {
    observer.stop();
  }
}
