// Who is calling the control plane, and what their access token lets them reach.
import { forbidden, notFound } from './errors.ts';

export type Role = 'ADMIN' | 'PROJECT';

export interface Viewer {
  /** null for the KEYGATE_ADMIN_TOKEN from the environment */
  tokenId: string | null;
  tokenName: string;
  role: Role;
  /** the project a PROJECT token is confined to */
  projectId: string | null;
  /** when the token expires (null: never); tokens it mints expire no later (access-tokens.ts) */
  expiresAt?: Date | null;
}

/** Projects outside a token's reach look exactly like projects that do not exist. */
export function canReachProject(viewer: Viewer, projectId: string): boolean {
  return viewer.role === 'ADMIN' || viewer.projectId === projectId;
}

export function assertProjectReach(viewer: Viewer, projectId: string, what = 'project'): void {
  if (!canReachProject(viewer, projectId)) throw notFound(what);
}

export function requireAdmin(viewer: Viewer, action: string): void {
  if (viewer.role !== 'ADMIN') throw forbidden(`only an admin token may ${action}`);
}

/** A Prisma `where` fragment confining a query to the viewer's projects. */
export function projectScope(viewer: Viewer): { projectId?: string } {
  return viewer.role === 'ADMIN' ? {} : { projectId: viewer.projectId ?? '00000000-0000-0000-0000-000000000000' };
}
