// The layers of src/, read from the imports themselves. Arrows point down:
// cli and the daemon wire features; features use config and the adapters; everything stands on core.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = resolve(import.meta.dirname, '../../src');

const CORE = 'core';
/** The lowest adapter: every child process of the project is started through it. */
const PROCESS = 'process';
const ADAPTERS = ['git', 'docker', 'logging', 'state'];
const CONFIG = 'config';
const FEATURES = ['scheduler', 'autodeploy', 'notebooks', 'http'];
const WIRING = ['cli'];
/** The one file of a feature folder that wires other features together. */
const WIRING_FILES = ['scheduler/daemon.ts'];

interface Arrow {
  readonly file: string;
  readonly from: string;
  readonly to: string;
  readonly spec: string;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : [];
  });
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"](\.{1,2}\/[^'"]+)['"]|import\(\s*['"](\.{1,2}\/[^'"]+)['"]\s*\)/g;

function arrows(): Arrow[] {
  const found: Arrow[] = [];
  for (const path of sourceFiles(SRC)) {
    const file = relative(SRC, path);
    const from = file.split('/')[0] ?? '';
    for (const match of readFileSync(path, 'utf8').matchAll(IMPORT)) {
      const spec = match[1] ?? match[2] ?? '';
      const target = relative(SRC, resolve(dirname(path), spec));
      const to = target.includes('/') ? (target.split('/')[0] ?? '') : '';
      if (to !== from) found.push({ file, from, to, spec });
    }
  }
  return found;
}

/** Why an arrow breaks the layers, or undefined when it is allowed. */
export function brokenRule(arrow: Arrow): string | undefined {
  const { from, to, file } = arrow;
  if (to === '') return 'every module lives in a folder of src/: a file at the top of src/ belongs to no layer';
  if (from === CORE) return 'core imports nothing else of the project';
  if (from === PROCESS) return to === CORE ? undefined : 'process, the lowest adapter, imports only core';
  if (ADAPTERS.includes(from)) return [CORE, PROCESS].includes(to) ? undefined : `adapters (${ADAPTERS.join(', ')}) import only core and the process runner`;
  if (from === CONFIG) return [CORE, PROCESS].includes(to) ? undefined : 'config imports only core and the process runner';
  if (FEATURES.includes(from)) {
    if ([CORE, PROCESS, CONFIG, ...ADAPTERS].includes(to)) return undefined;
    if (FEATURES.includes(to) && WIRING_FILES.includes(file)) return undefined;
    if (FEATURES.includes(to)) return 'a feature never imports another feature: the CLI or the daemon wires them together';
    return 'features import core, config and the adapters, never the CLI';
  }
  if (WIRING.includes(from)) return undefined;
  return `${from}/ is in no layer: add it to this test with the rule it follows`;
}

describe('the layers of src/', () => {
  const all = arrows();

  it('finds the imports it checks', () => {
    // A regular expression that matched nothing would make every rule below pass.
    expect(all.length).toBeGreaterThan(50);
    expect(all.some((a) => a.from === 'cli' && a.to === 'config')).toBe(true);
  });

  it('has every arrow point down', () => {
    const broken = all.flatMap((arrow) => {
      const rule = brokenRule(arrow);
      return rule === undefined ? [] : [`src/${arrow.file} imports ${arrow.spec}: ${rule}`];
    });
    expect(broken).toEqual([]);
  });

  it('has no two folders importing each other', () => {
    const pairs = new Set(all.map((a) => `${a.from} -> ${a.to}`));
    const both = [...pairs].filter((pair) => {
      const [from, to] = pair.split(' -> ');
      return from! < to! && pairs.has(`${to} -> ${from}`);
    });
    expect(both.map((pair) => `${pair.replace(' -> ', ' and ')} import each other`)).toEqual([]);
  });

  it('names the rule an arrow breaks', () => {
    expect(brokenRule({ file: 'core/job.ts', from: 'core', to: 'config', spec: '../config/load.js' })).toBe('core imports nothing else of the project');
    expect(brokenRule({ file: 'git/inspect.ts', from: 'git', to: 'autodeploy', spec: '../autodeploy/check.js' })).toMatch(/adapters .* import only core/);
    expect(brokenRule({ file: 'autodeploy/job.ts', from: 'autodeploy', to: 'notebooks', spec: '../notebooks/job.js' })).toMatch(/never imports another feature/);
    expect(brokenRule({ file: 'cli/run.ts', from: 'cli', to: 'scheduler', spec: '../scheduler/run-job.js' })).toBeUndefined();
  });
});

/** The libraries that reach outside the process, and the only place each may be imported. */
const OWNERS: readonly { readonly library: RegExp; readonly owner: (file: string) => boolean; readonly rule: string }[] = [
  {
    library: /^(node:)?child_process$/,
    owner: (file) => file === 'process/run.ts',
    rule: 'every child process is started by process/run.ts (one error type, timeouts stop the whole process group)',
  },
  {
    library: /^simple-git$/,
    owner: (file) => file === 'git/git-client.ts',
    rule: 'every git command goes through git/git-client.ts (a sealed environment, the settings that keep a checkout from running a command)',
  },
  { library: /^dockerode$/, owner: (file) => file.startsWith('docker/'), rule: 'the Docker engine is reached through docker/ only' },
];

const LIBRARY_IMPORT = /(?:^|\n)\s*(?:import|export)\b[^'"`;]*?from\s*['"]([^'".][^'"]*)['"]|import\(\s*['"]([^'".][^'"]*)['"]\s*\)|require\(\s*['"]([^'".][^'"]*)['"]\s*\)/g;

describe('the libraries that reach outside', () => {
  const imports = sourceFiles(SRC).flatMap((path) => {
    const file = relative(SRC, path);
    return [...readFileSync(path, 'utf8').matchAll(LIBRARY_IMPORT)].map((m) => ({ file, library: m[1] ?? m[2] ?? m[3] ?? '' }));
  });

  it('are each imported by their one owner only', () => {
    for (const { library } of OWNERS) {
      // A pattern that matched no import would make the rule pass by finding nothing.
      expect(imports.some((i) => library.test(i.library)), String(library)).toBe(true);
    }
    const broken = imports.flatMap(({ file, library }) => {
      const owner = OWNERS.find((o) => o.library.test(library));
      return owner === undefined || owner.owner(file) ? [] : [`src/${file} imports ${library}: ${owner.rule}`];
    });
    expect(broken).toEqual([]);
  });
});
