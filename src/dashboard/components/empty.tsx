// What a list shows when it has nothing yet, with the next step.
import type { ComponentChildren } from 'preact';

export function Empty(props: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty">
      <p class="empty-title">{props.title}</p>
      {props.children}
    </div>
  );
}
