import type { RunResult, StartAnswer } from '../core/scheduler-port.js';

/** What a request for a run became. */
export type CoalescedAs =
  /** a run started now */
  | 'started'
  /** a run is going; one more starts when it ends */
  | 'queued'
  /** a run is going and one more is already queued: this request is in that one */
  | 'merged'
  | 'unknown-job';

/**
 * Turns a burst of requests for one job into one run now and at most one run after it: a push
 * that lands while a deploy is going may have come after that deploy's check, so one more run
 * must follow; a second such push is covered by that same run.
 */
export class RunCoalescer {
  private following: Promise<unknown> | undefined;
  private queued = false;

  constructor(private readonly start: () => StartAnswer, private readonly onError: (error: unknown) => void = () => undefined) {}

  request(): CoalescedAs {
    if (this.following !== undefined) {
      if (this.queued) return 'merged';
      this.queued = true;
      return 'queued';
    }
    const answer = this.start();
    if (answer.kind === 'unknown') return 'unknown-job';
    if (answer.kind === 'busy') this.queued = true;
    this.follow(answer.kind === 'started' ? answer.result : answer.current);
    return answer.kind === 'started' ? 'started' : 'queued';
  }

  /** Settles when no run is going or queued (for tests and shutdown). */
  async idle(): Promise<void> {
    while (this.following !== undefined) await this.following;
  }

  private follow(run: Promise<RunResult>): void {
    const following = run.then(
      () => undefined,
      (error: unknown) => this.onError(error),
    ).then(() => {
      this.following = undefined;
      if (!this.queued) return;
      this.queued = false;
      const answer = this.start();
      if (answer.kind === 'unknown') return;
      if (answer.kind === 'busy') this.queued = true;
      this.follow(answer.kind === 'started' ? answer.result : answer.current);
    });
    this.following = following;
  }
}

/** Ids seen lately, oldest forgotten first: enough for the deliveries of days. */
export class SeenSet {
  private readonly seen = new Set<string>();

  constructor(private readonly capacity = 10_000) {}

  /** True when the id was seen before; remembers it either way. */
  check(id: string): boolean {
    if (this.seen.has(id)) return true;
    this.seen.add(id);
    if (this.seen.size > this.capacity) {
      const oldest = this.seen.values().next();
      if (!oldest.done) this.seen.delete(oldest.value);
    }
    return false;
  }
}
