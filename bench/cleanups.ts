// Clean-up work of the running sections, so that an interrupted benchmark
// (Ctrl-C, SIGTERM) still removes its containers, processes and temp dirs.

export type Cleanup = () => Promise<void>;

export class Cleanups {
  private readonly pending = new Set<Cleanup>();

  /**
   * Registers `task`; returns a function that runs it once and forgets it. A section calls
   * that function in its `finally`; `runAll` calls what is still registered on an interrupt.
   */
  add(task: Cleanup): Cleanup {
    let done: Promise<void> | undefined;
    const once: Cleanup = () => {
      this.pending.delete(once);
      done ??= task();
      return done;
    };
    this.pending.add(once);
    return once;
  }

  async runAll(): Promise<void> {
    await Promise.allSettled([...this.pending].map((task) => task()));
  }
}
