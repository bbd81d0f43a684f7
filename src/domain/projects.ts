// Projects: the unit of isolation. Only admins create them.
import type { PrismaClient } from '../db/database.ts';
import { type Viewer, assertProjectReach, requireAdmin } from './access.ts';
import { conflict, notFound } from './errors.ts';
import { check, rules } from './validation.ts';

export async function createProject(prisma: PrismaClient, viewer: Viewer, input: { slug: string; name?: string | null }) {
  requireAdmin(viewer, 'create projects');
  const slug = check(rules.projectSlug, input.slug, 'slug');
  const name = input.name == null ? slug : check(rules.projectName, input.name, 'name');
  if (await prisma.project.findUnique({ where: { slug }, select: { id: true } })) {
    throw conflict(`a project with slug "${slug}" already exists`, 'slug');
  }
  return prisma.project.create({ data: { slug, name } });
}

/** The project, if it exists and the viewer may reach it; NOT_FOUND otherwise. */
export async function findReachableProject(prisma: PrismaClient, viewer: Viewer, projectId: string) {
  assertProjectReach(viewer, projectId);
  const project = await prisma.project.findUnique({ where: { id: projectId } });
  if (!project) throw notFound('project');
  return project;
}
