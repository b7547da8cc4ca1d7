import cron, { type ScheduledTask } from 'node-cron';
import type { Job, Schedule } from '../core/job.js';
import { setAlarm } from './alarm.js';

export interface TimerOptions {
  /** Called at each due moment with the job's name; the caller looks up the job's current definition. */
  readonly onDue: (job: string, dueAt: Date) => void;
  readonly now?: () => Date;
}

export interface TimerChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly rescheduled: readonly string[];
}

interface Armed {
  readonly key: string;
  readonly cancel: () => void;
  readonly next: () => Date | undefined;
}

/**
 * One timer per enabled, scheduled job. `apply` takes a whole job table and changes only what
 * differs, so a reload does not reset the phase of an `@every` job whose schedule stayed the same.
 */
export class JobTimers {
  private readonly armed = new Map<string, Armed>();
  private readonly onDue: TimerOptions['onDue'];
  private readonly now: () => Date;

  constructor(options: TimerOptions) {
    this.onDue = options.onDue;
    this.now = options.now ?? (() => new Date());
  }

  apply(jobs: readonly Job[]): TimerChanges {
    const wanted = new Map<string, Schedule>();
    for (const job of jobs) if (job.enabled && job.schedule) wanted.set(job.name, job.schedule);

    const added: string[] = [];
    const removed: string[] = [];
    const rescheduled: string[] = [];
    for (const [name, armed] of this.armed) {
      const schedule = wanted.get(name);
      if (schedule === undefined) {
        armed.cancel();
        this.armed.delete(name);
        removed.push(name);
      } else if (scheduleKey(schedule) !== armed.key) {
        armed.cancel();
        this.armed.set(name, this.arm(name, schedule));
        rescheduled.push(name);
      }
    }
    for (const [name, schedule] of wanted) {
      if (!this.armed.has(name)) {
        this.armed.set(name, this.arm(name, schedule));
        added.push(name);
      }
    }
    return { added, removed, rescheduled };
  }

  /** The next due moment of a job, if it has a timer. */
  nextRun(job: string): Date | undefined {
    return this.armed.get(job)?.next();
  }

  get size(): number {
    return this.armed.size;
  }

  stop(): void {
    for (const armed of this.armed.values()) armed.cancel();
    this.armed.clear();
  }

  private arm(name: string, schedule: Schedule): Armed {
    return schedule.kind === 'cron' ? this.armCron(name, schedule) : this.armEvery(name, schedule.intervalMs, schedule);
  }

  private armCron(name: string, schedule: Extract<Schedule, { kind: 'cron' }>): Armed {
    const options = schedule.timezone === undefined ? { name } : { name, timezone: schedule.timezone };
    const task: ScheduledTask = cron.createTask(schedule.expression, (context) => this.onDue(name, context.date), options);
    void task.start();
    return {
      key: scheduleKey(schedule),
      cancel: () => void task.destroy(),
      next: () => task.getNextRun() ?? undefined,
    };
  }

  /**
   * A true interval, unlike crontab's `*\/120`: due at anchor + k * interval, k = 1, 2, …
   * Each timer is computed from the anchor, so a late wake-up does not shift later runs.
   */
  private armEvery(name: string, intervalMs: number, schedule: Schedule): Armed {
    const anchor = this.now().getTime();
    let cancelAlarm: () => void = () => undefined;
    let due = anchor + intervalMs;
    const wait = (): void => {
      cancelAlarm = setAlarm(due, this.now, fire);
    };
    const fire = (): void => {
      const dueAt = new Date(due);
      const now = this.now().getTime();
      // Skip the slots a sleeping host missed, as cron does, rather than firing them all at once.
      const missed = Math.floor((now - due) / intervalMs);
      due += (missed + 1) * intervalMs;
      wait();
      this.onDue(name, dueAt);
    };
    wait();
    return {
      key: scheduleKey(schedule),
      cancel: () => cancelAlarm(),
      next: () => new Date(due),
    };
  }
}

function scheduleKey(schedule: Schedule): string {
  return schedule.kind === 'cron' ? `cron ${schedule.expression} ${schedule.timezone ?? ''}` : `every ${schedule.intervalMs}`;
}
