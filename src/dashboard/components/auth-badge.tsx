// A deployment's authentication at a glance, including the two states that need attention.
export function AuthBadge(props: { enabled: boolean; linked: number }) {
  if (!props.enabled) return <span class="badge open" title="Anyone who can reach the endpoint can call the model">Off: open to all</span>;
  if (props.linked === 0) return <span class="badge locked" title="No key is linked: every request gets 401">On: no keys</span>;
  return <span class="badge on">On</span>;
}
