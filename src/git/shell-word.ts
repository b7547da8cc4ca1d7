import { quote } from 'shell-quote';

// A plain word is left as it is, so that a command in a message reads as an operator would
// type it: shell-quote alone would write `IdentityFile\=/keys/k`.
const PLAIN = /^[A-Za-z0-9_\/.,:=+@%-]+$/;

/** The word as /bin/sh reads it back: as is when it is plain, quoted by shell-quote otherwise. */
export function shellWord(word: string): string {
  return PLAIN.test(word) ? word : quote([word]);
}
