// Who a pulled checkout or a published notebook version is given to: numbers only, because
// names differ between the host and the containers.

export interface Ownership {
  readonly uid: number;
  readonly gid: number;
}

/** `uid:gid` in numbers, as the settings and chown both read it. */
export const OWNERSHIP_PATTERN = /^\s*(\d+):(\d+)\s*$/;

/** An ownership setting is not `uid:gid` in numbers. */
export class OwnershipFormatError extends Error {
  readonly value: string;
  constructor(value: string) {
    super(`"${value}" is not an ownership of the form uid:gid in numbers (e.g. 1000:1000): names differ between the container and the host, numbers do not`);
    this.name = 'OwnershipFormatError';
    this.value = value;
  }
}

export function parseOwnership(value: string): Ownership {
  const match = OWNERSHIP_PATTERN.exec(value);
  if (match === null) throw new OwnershipFormatError(value);
  return { uid: Number(match[1]), gid: Number(match[2]) };
}
