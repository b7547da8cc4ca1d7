import { describe, expect, it } from 'vitest';
import { parseLocalStates } from '../../src/git/local-states.js';

const block = (i: number, exit: number, status: string, config: string): string => `\0#checkout ${i} ${exit}\0${status}\0#config\0${config}`;

describe('parseLocalStates', () => {
  const paths = ['/srv/a', '/srv/b', '/srv/c'];

  it('gives each checkout its status and config, in the order of the paths', () => {
    const statusA = '# branch.oid abc\0# branch.head main\0? new file.txt\0';
    const configA = 'branch.main.remote\norigin\0remote.origin.url\nssh://git@host/a.git\0';
    const out = block(0, 0, statusA, configA) + block(2, 128, '', '') + '\0#end\0';
    const states = parseLocalStates(out, paths);
    expect([...states.keys()]).toEqual(['/srv/a', '/srv/c']);
    expect(states.get('/srv/a')).toEqual({ statusExit: 0, status: statusA, config: configA });
    expect(states.get('/srv/c')).toMatchObject({ statusExit: 128 });
  });

  it('keeps nothing from an output cut short, so that every checkout is asked again alone', () => {
    const out = block(0, 0, '# branch.oid abc\0', '');
    expect(parseLocalStates(out, paths).size).toBe(0);
  });

  it('is not fooled by a file name that looks like a marker', () => {
    const status = '? #checkout 1 0 odd name\0';
    const out = block(0, 0, status, '') + '\0#end\0';
    expect(parseLocalStates(out, paths).get('/srv/a')).toEqual({ statusExit: 0, status, config: '' });
  });
});
