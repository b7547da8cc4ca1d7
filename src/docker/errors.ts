/** A Docker Engine API call that failed, with what the engine said. */
export class DockerError extends Error {
  readonly statusCode: number | undefined;
  readonly operation: string;
  constructor(operation: string, cause: unknown) {
    const statusCode = statusOf(cause);
    super(`docker ${operation} failed: ${engineMessage(cause)}`, { cause });
    this.name = 'DockerError';
    this.operation = operation;
    this.statusCode = statusCode;
  }
}

/** The job's container name is taken: by a run still going, or by something else. */
export class ContainerNameInUse extends Error {
  readonly containerName: string;
  constructor(containerName: string, cause: unknown) {
    super(`container name "${containerName}" is already in use`, { cause });
    this.name = 'ContainerNameInUse';
    this.containerName = containerName;
  }
}

export function statusOf(error: unknown): number | undefined {
  if (typeof error === 'object' && error !== null && 'statusCode' in error) {
    const code = (error as { statusCode: unknown }).statusCode;
    return typeof code === 'number' ? code : undefined;
  }
  return undefined;
}

/** dockerode puts the engine's own sentence in `json.message`; prefer it to the HTTP wrapper text. */
export function engineMessage(error: unknown): string {
  if (typeof error === 'object' && error !== null) {
    const json = (error as { json?: unknown }).json;
    if (typeof json === 'object' && json !== null && typeof (json as { message?: unknown }).message === 'string') {
      return (json as { message: string }).message;
    }
    if (error instanceof Error) return error.message;
  }
  return String(error);
}
