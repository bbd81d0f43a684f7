// Answers to repeated reads, kept until the next change (issue 18, item 5). Every change that a
// list can show takes a revision of the change log (docs/architecture.md, "Change-feed protocol"),
// so an answer read at head revision R is still the answer while the head is R. A query is
// answered from here when:
//
// - it is an HTTP query (graphql-ws writes its own messages) whose every field is in REVISIONED:
//   fields whose values change only with a revision. Not lastUsedAt (flushed by the proxies without
//   one), usage and rate-limit use, access tokens and the project list (their mutations take no
//   revision), nor the fields that turn with the clock unless they say when (answer-validity.ts:
//   `expired` does), nor keys ordered by lastUsedAt (their resolver says so);
// - the same token (its id, role and project: one token's answer never reaches another), document,
//   operation name and variables were answered at the head revision read now, with no error and
//   every root field non-null (a project created since, which takes no revision, is not missed);
// - the time a field said its answer turns has not come.
//
// The head is read from Postgres before the query runs, one statement, so a change committed by
// any replica is seen; what the query reads afterwards is at least that revision. Kept as the JSON
// yoga wrote, at most MAX_BYTES in all and MAX_ENTRIES answers, least recently stored out; answers
// of an older revision are dropped as soon as a newer head is read (they can never be used again).
import { type DocumentNode, type ExecutionResult, getOperationAST, type GraphQLSchema, TypeInfo, visit, visitWithTypeInfo } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { sqlOfPrisma } from '../db/sql.ts';
import { headRevision } from '../db/statements/index.ts';
import { trackAnswerValidity } from '../graphql/answer-validity.ts';
import type { GraphQLContext } from '../graphql/context.ts';

export const MAX_BYTES = 32 * 1024 * 1024;
export const MAX_ENTRIES = 256;

/** The fields an answer may hold to be kept: each changes only with a revision (or says when it turns). */
const REVISIONED: Readonly<Record<string, readonly string[]>> = {
  Query: ['project'],
  Project: ['id', 'slug', 'name', 'createdAt', 'apiKeys', 'deployments'],
  ApiKeyConnection: ['totalCount', 'pageInfo', 'edges'],
  DeploymentConnection: ['totalCount', 'pageInfo', 'edges'],
  ApiKeyEdge: ['cursor', 'node'],
  DeploymentEdge: ['cursor', 'node'],
  PageInfo: ['hasNextPage', 'hasPreviousPage', 'startCursor', 'endCursor'],
  ApiKey: ['id', 'project', 'name', 'description', 'prefix', 'expiresAt', 'expired', 'createdAt', 'rateLimit', 'deployments'],
  RateLimit: ['requestsPerMinute', 'tokensPerMinute'],
  Deployment: ['id', 'project', 'name', 'model', 'upstreamUrl', 'endpointUrl', 'authEnabled', 'apiKeys', 'createdAt', 'updatedAt'],
};

const isRevisioned = (typeName: string | undefined, field: string) =>
  field === '__typename' || (typeName !== undefined && (REVISIONED[typeName]?.includes(field) ?? false));

interface Entry {
  revision: number;
  /** epoch ms after which the answer may be different without a change */
  until: number;
  json: string;
}

/** Per parsed document: a number naming it in keys, or null when it may not be kept. */
const documents = new WeakMap<DocumentNode, number | null>();
let nextDocument = 1;

function documentId(schema: GraphQLSchema, document: DocumentNode): number | null {
  let id = documents.get(document);
  if (id !== undefined) return id;
  let keepable = true;
  const typeInfo = new TypeInfo(schema);
  visit(
    document,
    visitWithTypeInfo(typeInfo, {
      OperationDefinition: (node) => {
        if (node.operation !== 'query') keepable = false;
      },
      Field: (node) => {
        if (!isRevisioned(typeInfo.getParentType()?.name, node.name.value)) keepable = false;
      },
    }),
  );
  id = keepable ? nextDocument++ : null;
  documents.set(document, id);
  return id;
}

/** An answer yoga writes as the kept JSON; its `data` is read back only if someone asks. */
function keptResult(json: string): ExecutionResult {
  const result = { stringify: () => json };
  Object.defineProperty(result, 'data', { enumerable: true, get: () => (JSON.parse(json) as ExecutionResult).data });
  return result as ExecutionResult;
}

const everyRootPresent = (result: ExecutionResult) =>
  !result.errors?.length && result.data != null && Object.values(result.data).every((value) => value != null);

/** A query that may be answered from the kept answers: `hit` when it was, `miss` when it ran. */
export type CacheOutcome = 'hit' | 'miss';

export function useResponseCache(
  limits = { maxBytes: MAX_BYTES, maxEntries: MAX_ENTRIES },
  onOutcome: (outcome: CacheOutcome) => void = () => {},
): Plugin {
  const entries = new Map<string, Entry>(); // oldest stored first
  let bytes = 0;
  let head = 0;

  const remove = (key: string, entry: Entry) => {
    entries.delete(key);
    bytes -= entry.json.length;
  };
  const store = (key: string, entry: Entry) => {
    if (entry.revision < head || entry.until <= Date.now() || entry.json.length > limits.maxBytes) return;
    const old = entries.get(key);
    if (old) remove(key, old);
    entries.set(key, entry);
    bytes += entry.json.length;
    for (const [oldest, e] of entries) {
      if (bytes <= limits.maxBytes && entries.size <= limits.maxEntries) break;
      remove(oldest, e);
    }
  };
  const seeHead = (revision: number) => {
    if (revision === head) return;
    // Backwards only when the database was replaced (a restore): a revision number may then come
    // back with other contents, so nothing kept is trusted.
    for (const [key, e] of entries) if (e.revision < revision || revision < head) remove(key, e);
    head = revision;
  };

  return {
    onExecute({ args, setResultAndStopExecution }) {
      const ctx = args.contextValue as unknown as GraphQLContext & { connectionParams?: unknown };
      if (ctx.connectionParams !== undefined || !ctx.viewer) return;
      const id = documentId(args.schema, args.document);
      if (id === null || getOperationAST(args.document, args.operationName)?.operation !== 'query') return;
      const { viewer } = ctx;
      const key = `${id} ${JSON.stringify([viewer.tokenId, viewer.role, viewer.projectId, args.operationName ?? null, args.variableValues ?? null])}`;
      return headRevision(sqlOfPrisma(ctx.prisma)).then((revision) => {
        seeHead(revision);
        const kept = entries.get(key);
        if (kept && kept.revision === revision && Date.now() < kept.until) {
          onOutcome('hit');
          setResultAndStopExecution(keptResult(kept.json));
          return;
        }
        onOutcome('miss');
        const validity = trackAnswerValidity(ctx);
        return {
          onExecuteDone: ({ result }: { result: ExecutionResult | AsyncIterable<unknown> }) => {
            if (isAsyncIterable(result) || !everyRootPresent(result)) return;
            // Kept as yoga writes it, when it writes it: no second serialisation.
            (result as ExecutionResult & { stringify?: (r: unknown) => string }).stringify = (r) => {
              const json = JSON.stringify(r);
              store(key, { revision, until: validity.until, json });
              return json;
            };
          },
        };
      });
    },
  };
}
