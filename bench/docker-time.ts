// Docker's RFC 3339 timestamps carry nanoseconds; Date.parse keeps milliseconds.

/** Epoch milliseconds, with the sub-millisecond part as a fraction. */
export function parseDockerTime(text: string): number {
  const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?(Z|[+-]\d\d:\d\d)$/.exec(text);
  if (!match) throw new Error(`"${text}" is not a Docker timestamp`);
  const whole = Date.parse(`${match[1]}${match[3]}`);
  const fraction = match[2] === undefined ? 0 : Number(`0.${match[2]}`) * 1000;
  if (Number.isNaN(whole) || whole <= 0) throw new Error(`"${text}" is not a time a container started at`);
  return whole + fraction;
}
