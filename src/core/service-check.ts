// What verifying a deploy finds of each service, as plain data: the verifier
// (src/autodeploy/verify.ts) produces it, the deploy's events carry it.

export type ServiceState = 'healthy' | 'running' | 'completed' | 'starting' | 'unhealthy' | 'restarting' | 'exited' | 'missing';

/** settled: all good on two polls in a row; failed-fast: a service crashed beyond doubt; deadline: time ran out */
export type VerifyOutcome = 'settled' | 'failed-fast' | 'deadline';

/** One service as the last poll of a verification saw it. */
export interface ServiceCheck {
  readonly service: string;
  readonly state: ServiceState;
  /** healthy, running without a healthcheck, or a one-shot service that completed */
  readonly ok: boolean;
  /** one sentence for the deploy log */
  readonly detail: string;
}
