import { LABEL_COMPOSE_PROJECT } from '../docker/compose-project.js';
import type { SelfContainer } from '../core/run.js';

/** Which scheduler this is: see LABEL_INSTANCE. A plain function of what the caller knows. */
export function schedulerInstance(env: Readonly<Record<string, string | undefined>>, self: SelfContainer | undefined, host: string): string {
  const explicit = env['AUTODEPLOY_INSTANCE'];
  if (explicit !== undefined && explicit !== '') return explicit;
  return self?.labels[LABEL_COMPOSE_PROJECT] ?? host;
}
