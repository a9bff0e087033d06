/**
 * What the bench must undo, last made first undone: child processes, the scratch database, the Redis
 * keys of its queue, temporary folders. Runs once, at the end, on a failure, or on Ctrl-C / SIGTERM;
 * if the process exits before an asynchronous step could run, each step's synchronous fallback runs.
 */
export interface Step {
  name: string;
  run: () => Promise<void> | void;
  /** What can still be done when the process is exiting and cannot wait (kill, remove a folder). */
  atExit?: () => void;
}

export class Cleanup {
  private readonly steps: Step[] = [];
  private running: Promise<void> | undefined;
  /** Set when a signal started the cleanup: what fails afterwards is the interruption, not a fault. */
  interrupted = false;

  add(step: Step): void {
    this.steps.push(step);
  }

  /** Runs (once) every step still registered; a failing step is reported and the others still run. */
  runAll(log: (line: string) => void = (l) => console.error(l)): Promise<void> {
    this.running ??= (async () => {
      while (this.steps.length > 0) {
        const step = this.steps.pop() as Step;
        try {
          await step.run();
        } catch (err) {
          log(`cleanup: ${step.name}: ${(err as Error).message}`);
        }
      }
    })();
    return this.running;
  }

  /** Ctrl-C and SIGTERM clean up, then exit; a hard exit runs the synchronous fallbacks. */
  installHandlers(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      this.interrupted = true;
      console.error(`\nbench: ${signal}, cleaning up`);
      void this.runAll().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
    };
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    process.once('exit', () => {
      for (const step of this.steps.reverse()) {
        try {
          step.atExit?.();
        } catch {
          // The process is ending: nothing more can be done about it.
        }
      }
    });
  }
}
