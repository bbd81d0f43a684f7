// Everything the benchmark starts (processes, databases, Redis keys, temp dirs) registers how to
// undo itself here. The undo steps run in reverse order on a normal end, on an error, on SIGINT or
// SIGTERM, and when the whole run overstays its time bound; each step is bounded too.
type Undo = () => Promise<void> | void;

const steps: { name: string; undo: Undo }[] = [];
let running: Promise<void> | null = null;

/** Registers an undo step; the returned function runs it now (once) and unregisters it. */
export function onCleanup(name: string, undo: Undo): () => Promise<void> {
  const step = { name, undo };
  steps.push(step);
  let done = false;
  return async () => {
    if (done) return;
    done = true;
    const i = steps.indexOf(step);
    if (i !== -1) steps.splice(i, 1);
    await bounded(step.name, step.undo);
  };
}

async function bounded(name: string, undo: Undo, ms = 15_000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      Promise.resolve().then(undo),
      new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms))),
    ]);
  } catch (error) {
    process.stderr.write(`bench: cleanup of ${name} failed: ${(error as Error).message}\n`);
  } finally {
    clearTimeout(timer);
  }
}

/** Runs every registered undo step, newest first. */
export function cleanupAll(): Promise<void> {
  running ??= (async () => {
    while (steps.length > 0) {
      const step = steps.pop()!;
      await bounded(step.name, step.undo);
    }
  })().finally(() => {
    running = null;
  });
  return running;
}

/** Cleans up and exits on SIGINT/SIGTERM, and when the run exceeds `limitMs`. */
export function guardRun(limitMs: number): () => void {
  const onSignal = (signal: string) => {
    process.stderr.write(`\nbench: ${signal}: cleaning up\n`);
    void cleanupAll().finally(() => process.exit(130));
  };
  const sigint = () => onSignal('SIGINT');
  const sigterm = () => onSignal('SIGTERM');
  process.on('SIGINT', sigint);
  process.on('SIGTERM', sigterm);
  const watchdog = setTimeout(() => {
    process.stderr.write(`\nbench: the run exceeded ${Math.round(limitMs / 1000)} s: cleaning up and stopping\n`);
    void cleanupAll().finally(() => process.exit(124));
  }, limitMs);
  watchdog.unref();
  return () => {
    clearTimeout(watchdog);
    process.off('SIGINT', sigint);
    process.off('SIGTERM', sigterm);
  };
}
