// A deployment's authentication at a glance, including the states that need attention: on with
// no key, or on with only expired keys (every request is refused either way).
export function AuthBadge(props: { enabled: boolean; keys: readonly { expired: boolean }[] }) {
  if (!props.enabled) return <span class="badge open" title="Anyone who can reach the endpoint can call the model">Off: open to all</span>;
  if (props.keys.length === 0) return <span class="badge locked" title="No key is linked: every request gets 401">On: no keys</span>;
  if (props.keys.every((k) => k.expired)) {
    return (
      <span class="badge locked" title="Every linked key has expired: every request gets 401">
        On — all linked keys expired
      </span>
    );
  }
  return <span class="badge on">On</span>;
}
