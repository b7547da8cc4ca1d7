// Node keeps a timer's delay in a signed 32-bit integer: a longer delay (past about 24.8 days)
// is taken as 1 ms, with only a warning. https://nodejs.org/api/timers.html#settimeoutcallback-delay-args
const LONGEST_DELAY_MS = 2 ** 31 - 1;

/**
 * Calls `ring` once, when `now()` has reached `atMs`, never at once; returns what cancels it.
 * Whenever the timer goes off it is checked against `now()`: a wait longer than a Node timer
 * holds is taken in steps, and a timer that goes off before `atMs` by that clock (Node's timers
 * follow a monotonic clock, the schedule follows the wall clock) waits for the rest.
 */
export function setAlarm(atMs: number, now: () => Date, ring: () => void): () => void {
  const delay = (): number => Math.min(Math.max(0, atMs - now().getTime()), LONGEST_DELAY_MS);
  const check = (): void => {
    if (now().getTime() >= atMs) ring();
    else timer = setTimeout(check, delay());
  };
  let timer = setTimeout(check, delay());
  return () => clearTimeout(timer);
}
