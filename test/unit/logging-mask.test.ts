import { describe, expect, it } from 'vitest';
import { formatJson, formatText, parseLogLine, type LogRecord } from '../../src/logging/format.js';
import { createMasker, maskJsonLine } from '../../src/core/mask.js';
import { isSecretName } from '../../src/core/secrets.js';

describe('isSecretName', () => {
  it.each([
    ['POSTGRES_PASSWORD', true],
    ['password', true],
    ['MY_PASSWORD_FILE', true],
    ['JUPYTERHUB_CRYPT_SECRET', true],
    ['secret_thing', true],
    ['GITHUB_TOKEN', true],
    ['TOKENIZER', true],
    ['AWS_ACCESS_KEY', true],
    ['ssh_key', true],
    ['KEYCLOAK_URL', false],
    ['KEY_FILE', false],
    ['MONKEY', false],
    ['PAVICS_FQDN', false],
    ['AUTODEPLOY_DEPLOY_KEY_ROOT_DIR', false],
  ])('%s -> %s', (name, expected) => {
    expect(isSecretName(name)).toBe(expected);
  });
});

describe('createMasker', () => {
  it('replaces every occurrence of every secret', () => {
    const mask = createMasker(['hunter22', 's3cr3t-token']);
    expect(mask('login hunter22 then hunter22 with s3cr3t-token.')).toBe('login *** then *** with ***.');
  });

  it('returns the text unchanged when it holds no secret, and with no secrets at all', () => {
    const text = 'nothing to see here';
    expect(createMasker(['hunter22'])(text)).toBe(text);
    expect(createMasker([])(text)).toBe(text);
  });

  it('masks the longest secret where one contains another', () => {
    const mask = createMasker(['abcd', 'abcdefgh']);
    expect(mask('x abcdefgh y abcd z')).toBe('x *** y *** z');
  });

  it('masks overlapping secrets as one span so that no part of either is left', () => {
    const mask = createMasker(['abcdef', 'defghijk']);
    expect(mask('-abcdefghijk-')).toBe('-***-');
    expect(mask('-defghijk-abcdef-')).toBe('-***-***-');
  });

  it('ignores values shorter than four characters and blank values', () => {
    const mask = createMasker(['abc', '    ', '', 'x']);
    expect(mask('abc    x')).toBe('abc    x');
  });

  it('treats regular-expression characters in secrets literally', () => {
    const secret = 'a.b*c(d)[e]{2}$^|+?\\/-';
    const mask = createMasker([secret]);
    expect(mask(`=${secret}=`)).toBe('=***=');
    expect(mask('aXb*c(d)[e]{2}$^|+?\\/-')).toBe('aXb*c(d)[e]{2}$^|+?\\/-');
  });

  it('masks the JSON-escaped form of a secret holding quotes, backslashes and control characters', () => {
    const secret = 'pa"ss\\wo\trd';
    const mask = createMasker([secret]);
    const json = JSON.stringify({ msg: `connect with ${secret} now`, env: { PASSWORD: secret } });
    const masked = mask(json);
    expect(masked).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(JSON.parse(masked)).toEqual({ msg: 'connect with *** now', env: { PASSWORD: '***' } });
    expect(mask(`raw: ${secret}`)).toBe('raw: ***');
  });
});

describe('maskJsonLine', () => {
  it('masks secrets in keys and values and keeps the line valid JSON', () => {
    const mask = createMasker(['topsecret']);
    const line = `${JSON.stringify({ level: 30, time: 1, msg: 'pw=topsecret', topsecret: ['x topsecret'] })}\n`;
    const masked = maskJsonLine(line, mask);
    expect(masked.endsWith('\n')).toBe(true);
    expect(JSON.parse(masked)).toEqual({ level: 30, time: 1, msg: 'pw=***', '***': ['x ***'] });
  });

  it('keeps the line valid when a secret starts inside an escape sequence', () => {
    // The value holds a newline then "abcdef"; its JSON text `\nabcdef` contains "nabc".
    const mask = createMasker(['nabc', 'zzzz']);
    const line = `${JSON.stringify({ level: 30, time: 1, msg: 'x\nabcdef', other: 'zzzz' })}\n`;
    const masked = maskJsonLine(line, mask);
    expect(JSON.parse(masked)).toEqual({ level: 30, time: 1, msg: 'x\nabcdef', other: '***' });
  });

  it('masks a line that is not JSON as text', () => {
    expect(maskJsonLine('not json topsecret', createMasker(['topsecret']))).toBe('not json ***');
  });
});

describe('masking both formats', () => {
  const secret = 'Sup3r"Secret\\Value';
  const mask = createMasker([secret]);
  const record: LogRecord = {
    time: 0, level: 'info', job: 'backup', run: 'r1', out: 'stdout',
    msg: `export PASSWORD='${secret}'`, note: `has ${secret} inside`,
  };

  it('leaves no trace of the secret in a text line', () => {
    const masked = mask(formatText(record));
    expect(masked).not.toContain(secret);
    expect(masked).not.toContain('Sup3r');
    expect(parseLogLine(masked)).toMatchObject({ msg: "export PASSWORD='***'", note: 'has *** inside' });
  });

  it('leaves no trace of the secret in a JSON line', () => {
    const masked = maskJsonLine(formatJson(record), mask);
    expect(masked).not.toContain('Sup3r');
    expect(parseLogLine(masked)).toMatchObject({ msg: "export PASSWORD='***'", note: 'has *** inside' });
  });
});
