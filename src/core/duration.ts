const DURATION = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

/**
 * `90s`, `30m`, `2h`, `1h30m` (and plain seconds, `90`, when `plainSeconds`)
 * in milliseconds; undefined when the text is none of these.
 */
export function parseDuration(text: string, options: { readonly plainSeconds?: boolean } = {}): number | undefined {
  const t = text.trim().toLowerCase();
  if (t === '') return undefined;
  if (/^\d+$/.test(t)) return options.plainSeconds === true ? Number(t) * 1000 : undefined;
  const m = DURATION.exec(t);
  if (m === null) return undefined;
  const [, hours, minutes, seconds] = m;
  return ((Number(hours ?? 0) * 60 + Number(minutes ?? 0)) * 60 + Number(seconds ?? 0)) * 1000;
}
