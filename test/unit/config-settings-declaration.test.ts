// A built-in job kind's own settings, declared in its folder, are read as the scheduler's are:
// both spellings, the platform's variables, problems at their line, secrets never quoted.
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { settingsOf, type BuiltinJobKind } from '../../src/config/builtin-job.js';
import { loadConfig } from '../../src/config/load.js';
import { declareSettings, readSettings, settingFromEnvironment } from '../../src/config/settings-declaration.js';
import { absolutePath } from '../../src/config/schemas.js';
import { formatIssue } from '../../src/core/issues.js';
import type { SettingEntry } from '../../src/config/job-draft.js';
import { validConfig } from '../helpers/config.js';

const EXAMPLE_VARIABLES = {
  port: {
    name: 'AUTODEPLOY_EXAMPLE_PORT',
    fallback: '8080',
    schema: z.string().regex(/^\d+$/, { error: 'must be a port number' }).transform(Number),
  },
  dir: { name: 'AUTODEPLOY_EXAMPLE_DIR', alternatives: ['PLATFORM_EXAMPLE_DIR'], schema: absolutePath.optional() },
  home: { name: 'AUTODEPLOY_EXAMPLE_HOME', derived: { from: 'PLATFORM_HOME', value: (home: string) => `${home}/example` }, schema: absolutePath.optional() },
  token: { name: 'AUTODEPLOY_EXAMPLE_TOKEN', secret: true, schema: z.string().min(12, { error: 'must be at least 12 characters' }).optional() },
  items: {
    name: 'AUTODEPLOY_EXAMPLE_ITEMS',
    multiline: true,
    schema: z
      .string()
      .transform((text, ctx) =>
        text.split('\n').flatMap((line, offset) => {
          const item = line.trim();
          if (item === '') return [];
          if (!/^[a-z]+$/.test(item)) ctx.addIssue({ code: 'custom', message: 'is not a lower-case word', path: [offset], input: item });
          return [{ item, offset }];
        }),
      )
      .optional(),
  },
} as const;

interface ExampleSettings {
  readonly port: number;
  readonly dir?: string;
  readonly home?: string;
  readonly token?: string;
  readonly items: readonly { readonly item: string; readonly line: number | undefined }[];
}

const EXAMPLE_SETTINGS = declareSettings(EXAMPLE_VARIABLES, ({ items, ...values }, lineOf): ExampleSettings => ({
  ...values,
  items: (items ?? []).map(({ item, offset }) => ({ item, line: lineOf('items', offset) })),
}));

/** What the kind was given to build its job from, for the test to look at. */
const built: ExampleSettings[] = [];
const exampleKind: BuiltinJobKind<ExampleSettings> = {
  name: 'example',
  settings: EXAMPLE_SETTINGS,
  build(input) {
    built.push(input.kindSettings);
    return { job: undefined, issues: [] };
  },
};

function load(local: string, processEnv: Record<string, string> = {}) {
  return loadConfig({ builtins: [exampleKind], files: [{ path: 'env.local', text: local }], processEnv });
}

function problems(local: string, processEnv: Record<string, string> = {}): string[] {
  const result = load(local, processEnv);
  if (result.ok) throw new Error('expected the configuration to be refused');
  return result.issues.map(formatIssue);
}

describe("a job kind's own settings", () => {
  it('are read under either spelling and from the platform, with fallbacks, and reach the kind typed', () => {
    built.length = 0;
    const c = validConfig(
      load(['BIRDHOUSE_AUTODEPLOY_EXAMPLE_PORT=9000', 'PLATFORM_EXAMPLE_DIR=/srv/example', 'PLATFORM_HOME=/home/op', 'AUTODEPLOY_EXAMPLE_ITEMS="', 'one', '', 'two"'].join('\n')),
    );
    const expected: ExampleSettings = { port: 9000, dir: '/srv/example', home: '/home/op/example', items: [{ item: 'one', line: 5 }, { item: 'two', line: 7 }] };
    expect(settingsOf(c, exampleKind)).toEqual(expected);
    expect(built).toEqual([expected]);
    expect(settingsOf(validConfig(load('')), exampleKind)).toEqual({ port: 8080, items: [] });
  });

  it('refuse the configuration with each problem at the line that set the value', () => {
    expect(
      problems(['# example', 'BIRDHOUSE_AUTODEPLOY_EXAMPLE_PORT=http', 'PLATFORM_EXAMPLE_DIR=relative', 'AUTODEPLOY_EXAMPLE_ITEMS="one', 'Two', 'three"'].join('\n')),
    ).toEqual([
      'env.local:2: AUTODEPLOY_EXAMPLE_PORT="http" must be a port number',
      'env.local:3: PLATFORM_EXAMPLE_DIR="relative" (read for AUTODEPLOY_EXAMPLE_DIR, which is not set) must be an absolute path',
      'env.local:5: AUTODEPLOY_EXAMPLE_ITEMS: the line "Two" is not a lower-case word',
    ]);
  });

  it('say where a value computed from another variable came from', () => {
    expect(problems('\nPLATFORM_HOME=home')).toEqual(['env.local:2: AUTODEPLOY_EXAMPLE_HOME is not set, and its default from PLATFORM_HOME ("home/example") must be an absolute path']);
  });

  it('never quote a secret', () => {
    const issues = problems('AUTODEPLOY_EXAMPLE_TOKEN=hush-hush');
    expect(issues).toEqual(['env.local:1: AUTODEPLOY_EXAMPLE_TOKEN must be at least 12 characters']);
    expect(issues.join('\n')).not.toContain('hush-hush');
  });

  it('are known names: no warning for them, and a suggestion for a typo of one', () => {
    expect(validConfig(load('AUTODEPLOY_EXAMPLE_PORT=9000')).warnings).toEqual([]);
    expect(validConfig(load('AUTODEPLOY_EXAMPLE_PROT=9000\nautodeploy_example_port=1')).warnings.map(formatIssue)).toEqual([
      'env.local:1: AUTODEPLOY_EXAMPLE_PROT is not a setting of this scheduler and is ignored; did you mean AUTODEPLOY_EXAMPLE_PORT?',
      'env.local:2: autodeploy_example_port is ignored: setting names are upper case; did you mean AUTODEPLOY_EXAMPLE_PORT?',
    ]);
    // Without the kind, its settings are nobody's.
    const without = loadConfig({ builtins: [], files: [{ path: 'env.local', text: 'AUTODEPLOY_EXAMPLE_PORT=9000' }], processEnv: {} });
    expect(validConfig(without).warnings.map(formatIssue)).toEqual([
      'env.local:1: AUTODEPLOY_EXAMPLE_PORT is not a setting of this scheduler and is ignored; see env.local.example for the settings',
    ]);
    expect(() => settingsOf(validConfig(without), exampleKind)).toThrow(/without the example job kind/);
  });

  it('can be read from the process environment alone, under either spelling', () => {
    expect(settingFromEnvironment(EXAMPLE_VARIABLES.port, {})).toBe('8080');
    expect(settingFromEnvironment(EXAMPLE_VARIABLES.port, { BIRDHOUSE_AUTODEPLOY_EXAMPLE_PORT: '9001' })).toBe('9001');
    expect(settingFromEnvironment(EXAMPLE_VARIABLES.dir, { PLATFORM_EXAMPLE_DIR: '/p' })).toBe('/p');
  });
});

describe('readSettings', () => {
  const entry = (value: string, line: number): SettingEntry => ({ value, source: { file: 'env.local', line }, order: line });

  it('points a problem at the place the value came from, even without a line', () => {
    const read = readSettings(EXAMPLE_SETTINGS, new Map([['AUTODEPLOY_EXAMPLE_PORT', { value: 'x', source: { file: 'process environment', line: undefined }, order: -1 }]]), 'env.local');
    expect(read).toEqual({ ok: false, issues: [{ file: 'process environment', line: undefined, key: 'AUTODEPLOY_EXAMPLE_PORT', message: 'AUTODEPLOY_EXAMPLE_PORT="x" must be a port number' }] });
  });

  it('leaves an unset setting out rather than undefined', () => {
    const read = readSettings(EXAMPLE_SETTINGS, new Map([['AUTODEPLOY_EXAMPLE_DIR', entry('  ', 1)]]), 'env.local');
    expect(read.ok && Object.keys(read.value)).toEqual(['port', 'items']);
  });
});
