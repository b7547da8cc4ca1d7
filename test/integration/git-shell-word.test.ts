import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { shellWord } from '../../src/git/shell-word.js';

/** What /bin/sh makes of the text as the words of a command. */
function shWords(text: string): string[] {
  const result = spawnSync('/bin/sh', ['-c', `printf '%s\\0' ${text}`], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`sh -c failed: ${result.stderr}`);
  return result.stdout.split('\0').slice(0, -1);
}

describe('shellWord', () => {
  it('leaves plain words as they are', () => {
    for (const word of ['ssh', 'IdentityFile=/keys/platform_deploy_key', '127.0.0.1:2222', 'a+b@c%d,e-f']) {
      expect(shellWord(word)).toBe(word);
    }
  });

  it('gives back every word whole through /bin/sh', () => {
    const words = [
      '',
      'with space',
      "it's",
      "it's here!",
      '"double"',
      '$HOME and `id` and $(id)',
      'back\\slash',
      'tab\there',
      'two\nlines',
      '*.ipynb',
      '~root',
      '#not a comment',
      'a;b|c&d>e<f',
      '{a,b}',
      '[127.0.0.1]:2222',
      'UserKnownHostsFile="/state dir/100%% known_hosts"',
      'é',
    ];
    expect(shWords(words.map(shellWord).join(' '))).toEqual(words);
  });
});
