import { parse as shellParse, type ParseEntry } from 'shell-quote';

export type WordsResult = { readonly ok: true; readonly words: string[] } | { readonly ok: false; readonly problem: string };

// Values were expanded when the env file was read; a `$` left in them is meant
// literally, so shell-quote gets a lookup that writes the reference back.
function keepReference(key: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) || key.length === 1 ? `$${key}` : `\${${key}}`;
}

/** The quote character left open at the end of the text, if any (shell-quote silently drops it). */
function openQuote(text: string): string | undefined {
  let quote: string | undefined;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
    } else if (c === '\\') {
      i += 1;
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
    } else if (c === '"' || c === "'") {
      quote = c;
    }
  }
  return quote;
}

/** Splits text into words the way sh would (quotes, backslashes), without running or expanding anything. */
export function splitWords(text: string): WordsResult {
  const open = openQuote(text);
  if (open !== undefined) return { ok: false, problem: `has an unterminated ${open === '"' ? 'double' : 'single'} quote` };
  let entries: ParseEntry[];
  try {
    entries = shellParse<string>(text, keepReference);
  } catch (error) {
    return { ok: false, problem: `cannot be split into words (${(error as Error).message})` };
  }
  const words: string[] = [];
  for (const entry of entries) {
    if (typeof entry === 'string') words.push(entry);
    else if ('comment' in entry) return { ok: false, problem: `"#" starts a comment here; quote it if it is part of a value` };
    else if (entry.op === 'glob') words.push(entry.pattern);
    else return { ok: false, problem: `shell operator "${entry.op}" is not allowed here` };
  }
  return { ok: true, words };
}

export type ArgvResult = { readonly ok: true; readonly argv: string[] } | { readonly ok: false; readonly problem: string };

/**
 * A job's command as the argv of its container. A command that needs a shell
 * (operators, `$`, backquotes, globs, `~`, several lines) runs as
 * `sh -c <command>`, so that it means inside the container what it says.
 */
export function commandArgv(command: string | readonly string[]): ArgvResult {
  if (typeof command !== 'string') {
    return command.length === 0 ? { ok: false, problem: 'is an empty list' } : { ok: true, argv: [...command] };
  }
  const text = command.trim();
  if (text === '') return { ok: false, problem: 'is empty' };
  const open = openQuote(text);
  if (open !== undefined) return { ok: false, problem: `has an unterminated ${open === '"' ? 'double' : 'single'} quote` };
  const shell: ArgvResult = { ok: true, argv: ['sh', '-c', text] };
  if (/[$`~\n]/.test(text)) return shell;
  let entries: ParseEntry[];
  try {
    entries = shellParse(text);
  } catch {
    return shell;
  }
  const argv: string[] = [];
  for (const entry of entries) {
    if (typeof entry !== 'string') return shell;
    argv.push(entry);
  }
  return argv.length === 0 ? { ok: false, problem: 'is empty' } : { ok: true, argv };
}
