// What `autodeploy status` says of the deploy itself, from its intent and its lock: plain data
// in, one state and the sentence an operator acts on out.

import { recoveryAction, type DeployInProgress } from './deploy-record.js';

export interface LockSight {
  readonly host: string;
  readonly pid: number;
  readonly startedAt: string;
  readonly purpose: string;
  readonly expiresAt?: string | undefined;
  /** the holder's process or container is still there */
  readonly alive: boolean;
  /** the holder has outlived every deadline of its deploy */
  readonly pastDeadline: boolean;
}

/**
 * idle: no deploy. running: a deploy holds the lock within its deadlines. unfinished: a deploy
 * died midway, and the next run ends it. stuck: a deploy holds the lock past its deadlines, or
 * its holder is gone, and the next run takes the lock over.
 */
export type DeployStatusState = 'idle' | 'running' | 'unfinished' | 'stuck';

export interface DeployStatus {
  readonly state: DeployStatusState;
  readonly message: string;
}

export function deployStatus(intent: DeployInProgress | undefined, lock: LockSight | undefined): DeployStatus {
  const held = lock === undefined ? '' : `held by ${lock.host} (pid ${lock.pid}) since ${lock.startedAt}`;
  const end = intent === undefined ? '' : recoveryAction(intent) === 'finish'
    ? 'the next deploy run brings the platform up from what the checkouts say and verifies it, or else rolls it back'
    : 'the next deploy run moves the checkouts back and brings the platform up as it was';
  const step = intent?.step ?? 'pulling';
  if (lock !== undefined && lock.alive && !lock.pastDeadline) {
    return intent === undefined
      ? { state: 'running', message: `the deploy lock is ${held}` }
      : { state: 'running', message: `a deploy is under way (${step}), ${held}${lock.expiresAt === undefined ? '' : `; stuck if still there at ${lock.expiresAt}`}` };
  }
  if (lock !== undefined) {
    const why = lock.pastDeadline ? `is past its deadline${lock.expiresAt === undefined ? '' : ` (${lock.expiresAt})`}` : 'is gone';
    const then = intent === undefined ? 'the next deploy run takes the lock over' : `the next deploy run takes the lock over; ${end}`;
    return { state: 'stuck', message: `stuck: the deploy lock is ${held}, and its holder ${why}${intent === undefined ? '' : `, with a deploy unfinished (${step})`}: ${then}` };
  }
  if (intent !== undefined) {
    return { state: 'unfinished', message: `unfinished: a deploy started at ${intent.startedAt} died while ${step}: ${end}` };
  }
  return { state: 'idle', message: 'no deploy under way' };
}
