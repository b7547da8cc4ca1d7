import type { JobContainers } from '../core/ports.js';
import type { OutputLine } from '../core/run.js';
import type { ContainerSpec } from '../core/job.js';
import { newRunId } from '../core/short-id.js';

/**
 * Runs a one-off command in a container made like a job's (same image, mounts, env), prints
 * its output as it comes, and removes it. For CLI commands that must see what the job sees:
 * `autodeploy status` typed in the scheduler's container needs the checkouts that only the
 * autodeploy job's container mounts.
 */
export async function runOnce(
  containers: JobContainers,
  spec: ContainerSpec,
  options: { job: string; instance: string; command: readonly string[]; onOutput: (line: OutputLine) => void },
): Promise<number> {
  const run = newRunId();
  const id = await containers.create({ ...spec, command: [...options.command], containerName: `${spec.containerName}-${run}` }, { job: options.job, run, origin: 'manual', instance: options.instance });
  try {
    await containers.start(id);
    for await (const line of containers.output(id, { skipLines: 0 })) options.onOutput(line);
    return await containers.wait(id);
  } finally {
    await containers.remove(id);
  }
}
