// A periodic job: runs `task` every `ms`, never two runs at once (a slow run makes the next tick
// wait for nothing: that tick is skipped). The returned stop() clears the timer and waits for a run
// under way. The timer does not keep the process alive.
export function every(ms: number, task: () => Promise<void>): () => Promise<void> {
  let running: Promise<void> | null = null;
  const timer = setInterval(() => {
    running ??= task().finally(() => (running = null));
  }, ms);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
