import { describe, expect, it } from 'vitest';
import { resolveEnvFile, UsageError } from '../../src/cli/common.js';

describe('resolveEnvFile', () => {
  it('takes --env-file, else AUTODEPLOY_ENV_FILE, else BIRDHOUSE_LOCAL_ENV, else $COMPOSE_DIR/env.local', () => {
    const all = { AUTODEPLOY_ENV_FILE: '/a/env.local', BIRDHOUSE_LOCAL_ENV: '/b/env.local', COMPOSE_DIR: '/c' };
    expect(resolveEnvFile('/flag/env.local', all)).toBe('/flag/env.local');
    expect(resolveEnvFile(undefined, all)).toBe('/a/env.local');
    expect(resolveEnvFile(undefined, { ...all, AUTODEPLOY_ENV_FILE: undefined })).toBe('/b/env.local');
    expect(resolveEnvFile(undefined, { COMPOSE_DIR: '/c' })).toBe('/c/env.local');
  });

  it('accepts the BIRDHOUSE_ spelling of AUTODEPLOY_ENV_FILE', () => {
    expect(resolveEnvFile(undefined, { BIRDHOUSE_AUTODEPLOY_ENV_FILE: '/a/env.local', BIRDHOUSE_LOCAL_ENV: '/b/env.local' })).toBe('/a/env.local');
  });

  it('counts an empty variable as unset, as the compose file passes them', () => {
    expect(resolveEnvFile(undefined, { AUTODEPLOY_ENV_FILE: '', BIRDHOUSE_LOCAL_ENV: ' ', COMPOSE_DIR: '/c' })).toBe('/c/env.local');
    expect(resolveEnvFile(undefined, { AUTODEPLOY_ENV_FILE: '', BIRDHOUSE_LOCAL_ENV: '/b/env.local', COMPOSE_DIR: '/c' })).toBe('/b/env.local');
  });

  it('reads a relative BIRDHOUSE_LOCAL_ENV from COMPOSE_DIR, as birdhouse does', () => {
    expect(resolveEnvFile(undefined, { BIRDHOUSE_LOCAL_ENV: '../config/env.local', COMPOSE_DIR: '/srv/birdhouse-deploy/birdhouse' })).toBe('/srv/birdhouse-deploy/config/env.local');
  });

  it('says what to set when nothing names env.local', () => {
    expect(() => resolveEnvFile(undefined, { AUTODEPLOY_ENV_FILE: '' })).toThrow(UsageError);
    expect(() => resolveEnvFile(undefined, {})).toThrow('no env.local to read: pass --env-file FILE, or set AUTODEPLOY_ENV_FILE, BIRDHOUSE_LOCAL_ENV or COMPOSE_DIR');
  });
});
