// Sends notifications to AUTODEPLOY_NOTIFY_URLS. A notification never holds up what it tells
// of: `send` returns at once, each target is tried on its own with a deadline, retried with
// backoff, and given up on after the last try with a log line. The URLs hold their webhook's
// secret: logs name a target by its number and host only.

import type { Logger } from 'pino';
import type { Masker } from '../core/mask.js';
import type { Notification } from '../core/notification.js';
import type { NotifyTarget } from '../core/notify-target.js';

export interface NotifierOptions {
  readonly targets: () => readonly NotifyTarget[];
  readonly mask: () => Masker;
  readonly log: Logger;
  /** tries per target, the first included */
  readonly attempts?: number;
  /** wait before the second try; doubled before each next one */
  readonly backoffMs?: number;
  readonly timeoutMs?: number;
}

export class Notifier {
  private readonly pending = new Set<Promise<void>>();
  private readonly stopping = new AbortController();

  constructor(private readonly options: NotifierOptions) {}

  send(notification: Notification): void {
    const targets = this.options.targets();
    targets.forEach((target, index) => {
      const delivery = this.deliver(target, index + 1, notification).catch((error: unknown) => this.options.log.error({ err: error }, 'notification failed inside the scheduler'));
      this.pending.add(delivery);
      void delivery.finally(() => this.pending.delete(delivery));
    });
  }

  /** Settles when every notification sent so far is delivered or given up. */
  async idle(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  /** Gives up on pending retries (the scheduler stops). */
  stop(): void {
    this.stopping.abort();
  }

  private async deliver(target: NotifyTarget, number: number, notification: Notification): Promise<void> {
    const mask = this.options.mask();
    const text = mask(notification.text);
    const payload = target.form === 'text' ? { text } : { text, event: notification.kind, ...notification.fields };
    const body = mask(JSON.stringify(payload));
    const attempts = this.options.attempts ?? 5;
    let wait = this.options.backoffMs ?? 2_000;
    const where = { target: number, host: hostOf(target.url), kind: notification.kind };
    for (let attempt = 1; attempt <= attempts; attempt += 1) {
      if (this.stopping.signal.aborted) return;
      const problem = await this.post(target.url, body);
      if (problem === undefined) {
        this.options.log.info({ ...where, attempt }, `notification ${notification.kind} sent to target #${number}`);
        return;
      }
      if (attempt === attempts) {
        this.options.log.error({ ...where, attempt, problem }, `notification ${notification.kind} to target #${number} (${where.host}) given up after ${attempts} tries: ${problem}`);
        return;
      }
      this.options.log.warn({ ...where, attempt, problem, retryInMs: wait }, `notification ${notification.kind} to target #${number} (${where.host}) failed: ${problem}; retrying in ${wait} ms`);
      await sleep(wait, this.stopping.signal);
      wait *= 2;
    }
  }

  /** undefined when delivered; else why not, without the URL. */
  private async post(url: string, body: string): Promise<string | undefined> {
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        redirect: 'error',
        signal: AbortSignal.any([AbortSignal.timeout(this.options.timeoutMs ?? 10_000), this.stopping.signal]),
      });
      await response.body?.cancel().catch(() => undefined);
      return response.ok ? undefined : `HTTP ${response.status}`;
    } catch (error) {
      const cause = error instanceof Error ? (error.name === 'TimeoutError' ? 'no answer in time' : (error.cause instanceof Error ? error.cause.message : error.message)) : String(error);
      // An error's text may quote the URL: say only its kind.
      return cause.replaceAll(url, '<url>');
    }
  }
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return '?';
  }
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      resolve();
    }, { once: true });
  });
}
