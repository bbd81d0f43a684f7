// The projects the token can see, and (for admins) creating one.
import { useEffect, useState } from 'preact/hooks';
import { Dialog } from '../components/dialog.tsx';
import { Empty } from '../components/empty.tsx';
import { Field, FormError, FormFooter, useSubmit } from '../components/form.tsx';
import type { DashboardProjectsQuery } from '../generated/graphql.ts';
import { formatDate } from '../lib/format.ts';
import { messageOf, request } from '../lib/graphql.ts';
import { CreateProjectMutation, ProjectsQuery } from '../lib/operations.ts';
import { useTitle } from '../lib/page.ts';
import { navigate, onLinkClick, paths } from '../lib/router.ts';

type Project = DashboardProjectsQuery['projects']['edges'][number]['node'];

export function Projects(props: { isAdmin: boolean }) {
  const [projects, setProjects] = useState<Project[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [creating, setCreating] = useState(false);
  useTitle('Projects');

  useEffect(() => {
    request(ProjectsQuery, {}).then(
      (data) => setProjects(data.projects.edges.map((e) => e.node)),
      (e: unknown) => setError(messageOf(e)),
    );
  }, []);

  return (
    <main class="page">
      <div class="page-head">
        <h1 tabIndex={-1}>Projects</h1>
        {props.isAdmin && <button onClick={() => setCreating(true)}>Create project</button>}
      </div>
      <FormError error={error} />
      {projects === null && !error && <p class="muted">Loading…</p>}
      {projects?.length === 0 && (
        <Empty title="No projects yet">
          <p>A project holds API keys and the deployments they open.</p>
          {props.isAdmin && <button onClick={() => setCreating(true)}>Create the first project</button>}
        </Empty>
      )}
      {projects && projects.length > 0 && (
        <table class="cards">
          <thead>
            <tr>
              <th>Name</th>
              <th>Slug</th>
              <th>Created</th>
            </tr>
          </thead>
          <tbody>
            {projects.map((p) => (
              <tr key={p.id}>
                <td class="name">
                  <a href={paths.keys(p.slug)} onClick={(e) => onLinkClick(e, paths.keys(p.slug))}>
                    {p.name}
                  </a>
                </td>
                <td data-label="Slug">
                  <code>{p.slug}</code>
                </td>
                <td data-label="Created">{formatDate(p.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {creating && <CreateProject onClose={() => setCreating(false)} />}
    </main>
  );
}

function CreateProject(props: { onClose: () => void }) {
  const [slug, setSlug] = useState('');
  const [name, setName] = useState('');
  const { errors, busy, submit } = useSubmit(['slug', 'name'], async () => {
    const data = await request(CreateProjectMutation, { input: { slug: slug.trim(), name: name.trim() || null } });
    navigate(paths.keys(data.createProject.project.slug));
  });

  return (
    <Dialog title="Create project" onClose={props.onClose}>
      <form onSubmit={submit}>
        <Field label="Slug" error={errors.field.slug} hint="Lower-case letters, digits and dashes; part of every endpoint's host name.">
          <input value={slug} required autofocus onInput={(e) => setSlug(e.currentTarget.value)} />
        </Field>
        <Field label="Name (optional)" error={errors.field.name}>
          <input value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </Field>
        <FormFooter error={errors.form} busy={busy} submit="Create" onCancel={props.onClose} />
      </form>
    </Dialog>
  );
}
