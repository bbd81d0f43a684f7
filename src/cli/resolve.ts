// Names to ids for the management commands: a project by slug, a key or deployment by its name in
// a project (--project) or by its id. Also the propagation line every mutation prints.
import type { Api } from './api.ts';
import { CliError } from './run.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether `value` is a global id of `type` (base64 of "Type:uuid"), decoded without the server. */
export function isGlobalId(value: string, type: string): boolean {
  if (!/^[A-Za-z0-9+/=_-]+$/.test(value)) return false;
  const [typename, id] = Buffer.from(value, 'base64').toString('utf8').split(':');
  return typename === type && UUID.test(id ?? '');
}

export async function projectIdOf(api: Api, slug: string): Promise<string> {
  const { project } = await api.request<{ project: { id: string } | null }>('query($slug: String!) { project(slug: $slug) { id } }', { slug });
  if (!project) throw new CliError(`no project with slug "${slug}" (or it is outside this token's reach)`);
  return project.id;
}

/** Every node of a project's connection (`apiKeys` or `deployments`), page by page. */
export async function projectNodes<Node>(api: Api, slug: string, connection: 'apiKeys' | 'deployments', fields: string): Promise<Node[]> {
  const nodes: Node[] = [];
  let after: string | null = null;
  for (;;) {
    type Page = { project: Record<string, { edges: { node: Node }[]; pageInfo: { hasNextPage: boolean; endCursor: string | null } }> | null };
    const data: Page = await api.request<Page>(
      `query($slug: String!, $after: String) { project(slug: $slug) { ${connection}(first: 1000, after: $after) { edges { node { ${fields} } } pageInfo { hasNextPage endCursor } } } }`,
      { slug, after },
    );
    if (!data.project) throw new CliError(`no project with slug "${slug}" (or it is outside this token's reach)`);
    const page = data.project[connection]!;
    nodes.push(...page.edges.map((edge) => edge.node));
    if (!page.pageInfo.hasNextPage) return nodes;
    after = page.pageInfo.endCursor;
  }
}

/** An API key or deployment given by id, or by name within --project. */
export async function nodeIdOf(api: Api, kind: 'apiKeys' | 'deployments', ref: string, project: string | undefined): Promise<string> {
  const type = kind === 'apiKeys' ? 'ApiKey' : 'Deployment';
  const noun = kind === 'apiKeys' ? 'API key' : 'deployment';
  if (isGlobalId(ref, type)) return ref;
  if (!project) throw new CliError(`"${ref}" is not the id of ${kind === 'apiKeys' ? 'an' : 'a'} ${noun}: give --project <slug> to find it by name`);
  const match = (await projectNodes<{ id: string; name: string }>(api, project, kind, 'id name')).find((node) => node.name === ref);
  if (!match) throw new CliError(`no ${noun} named "${ref}" in project "${project}"`);
  return match.id;
}

export interface Propagation {
  revision: number;
  confirmed: boolean;
  appliedBy: number;
  expected: number;
}

export const PROPAGATION_FIELDS = 'propagation { revision confirmed appliedBy expected }';

export function describePropagation(p: Propagation): string {
  if (p.expected === 0) return `revision ${p.revision}; no proxy is running`;
  const applied = `applied on ${p.appliedBy} of ${p.expected} ${p.expected === 1 ? 'proxy' : 'proxies'}`;
  return p.confirmed ? `revision ${p.revision}, ${applied}` : `revision ${p.revision}, ${applied} so far (not confirmed in time)`;
}
