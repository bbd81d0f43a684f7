// A deployment's two addresses: the host form (endpointUrl, http://model-<d>.<p>.<base>:PORT) and
// the path form (http://<host>:PORT/<p>/<d>), which works where *.localhost or wildcard DNS does not
// resolve (Python's resolver on stock Linux, for one).
import { CopyButton } from './copy-button.tsx';

/** The path form of a deployment's endpoint, on the same proxy. */
export function pathFormUrl(endpointUrl: string, projectSlug: string, deploymentName: string): string {
  const url = new URL(endpointUrl);
  const prefix = `model-${deploymentName}.${projectSlug}.`;
  const base = url.hostname.startsWith(prefix) ? url.hostname.slice(prefix.length) : url.hostname;
  // *.localhost names the machine itself; 127.0.0.1 resolves everywhere.
  const host = base === 'localhost' ? '127.0.0.1' : base;
  return `${url.protocol}//${host}${url.port ? `:${url.port}` : ''}/${projectSlug}/${deploymentName}`;
}

export function Endpoints(props: { endpointUrl: string; project: string; deployment: string }) {
  const path = pathFormUrl(props.endpointUrl, props.project, props.deployment);
  return (
    <dl class="endpoints">
      <dt>Endpoint</dt>
      <dd>
        <code>{props.endpointUrl}</code> <CopyButton value={props.endpointUrl} label="Copy endpoint" />
      </dd>
      <dt>Path form</dt>
      <dd>
        <code>{path}</code> <CopyButton value={path} label="Copy path form" />
        <span class="hint">Works wherever the host name above does not resolve.</span>
      </dd>
    </dl>
  );
}
