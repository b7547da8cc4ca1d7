// Who a pulled checkout or a published notebook version is given to: numbers only, because
// names differ between the host and the containers.

export interface Ownership {
  readonly uid: number;
  /** undefined: the group is left as it is, as `chown uid file` leaves it */
  readonly gid: number | undefined;
}

/**
 * The largest uid or gid chown gives a file: (uid_t)-1, 2^32-1, is not an id but chown's
 * "leave this one unchanged" (chown(2), POSIX).
 */
export const MAX_ID = 2 ** 32 - 2;

export interface OwnershipForms {
  /** `uid` alone is accepted too (birdhouse-deploy documents a uid for its code ownership) */
  readonly uidAlone?: boolean;
}

export type OwnershipRead =
  | { readonly ok: true; readonly ownership: Ownership }
  | { readonly ok: false; readonly kind: 'form' | 'range'; readonly problem: string };

const FORM = /^\s*(\d+)(?::(\d+))?\s*$/;

/** `uid:gid` (or `uid`, when allowed) in numbers, each an id chown can give. */
export function readOwnership(value: string, forms: OwnershipForms = {}): OwnershipRead {
  const match = FORM.exec(value);
  if (match === null || (match[2] === undefined && forms.uidAlone !== true)) {
    const form = forms.uidAlone === true ? 'uid or uid:gid' : 'uid:gid';
    return { ok: false, kind: 'form', problem: `is not an ownership of the form ${form} in numbers` };
  }
  for (const [name, digits] of [['uid', match[1]], ['gid', match[2]]] as const) {
    if (digits !== undefined && Number(digits) > MAX_ID) {
      return { ok: false, kind: 'range', problem: `has ${name} ${digits}, over ${MAX_ID}, the largest id chown can give` };
    }
  }
  return { ok: true, ownership: { uid: Number(match[1]), gid: match[2] === undefined ? undefined : Number(match[2]) } };
}

/** An ownership setting is not `uid:gid` (or `uid`) in numbers, or names an id chown cannot give. */
export class OwnershipFormatError extends Error {
  readonly value: string;
  constructor(value: string, message: string) {
    super(message);
    this.name = 'OwnershipFormatError';
    this.value = value;
  }
}

export function parseOwnership(value: string, forms: OwnershipForms = {}): Ownership {
  const read = readOwnership(value, forms);
  if (read.ok) return read.ownership;
  const why = read.kind === 'form' ? ' (e.g. 1000:1000): names differ between the container and the host, numbers do not' : '';
  throw new OwnershipFormatError(value, `"${value}" ${read.problem}${why}`);
}

/** As chown writes it: `uid:gid`, or `uid` when the group is left alone. */
export function formatOwnership(ownership: Ownership): string {
  return ownership.gid === undefined ? String(ownership.uid) : `${ownership.uid}:${ownership.gid}`;
}
