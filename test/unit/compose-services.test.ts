import { describe, expect, it } from 'vitest';
import {
  ComposeConfigError,
  expectedServices,
  extractConfigYaml,
  isWithin,
  notRestartedSince,
  parseComposeConfig,
  profilesFromEnv,
  servicesToRestart,
  type ComposeService,
} from '../../src/core/compose-services.js';
import { normalizeProjectName } from '../../src/docker/compose.js';

// As docker-compose 1.29 prints it: short volume syntax kept, relative paths made absolute.
const V1_CONFIG = `configs:
  nginx_conf:
    file: /srv/platform/config/nginx.conf
services:
  proxy:
    configs:
    - source: nginx_conf
      target: /etc/nginx/nginx.conf
    image: nginx:1.25
    volumes:
    - /srv/platform/config/proxy:/etc/proxy:ro
    - certs:/certs:rw
    - /var/cache/proxy
  db:
    healthcheck:
      interval: 1s
      test:
      - CMD
      - pg_isready
    image: postgres:16
    volumes:
    - read_only: true
      source: /srv/platform/config/db/init.sql
      target: /docker-entrypoint-initdb.d/init.sql
      type: bind
    - source: pgdata
      target: /var/lib/postgresql/data
      type: volume
  debug:
    healthcheck:
      test:
      - NONE
    image: busybox
    profiles:
    - debug
  worker:
    image: worker:2
    scale: 0
version: '3.4'
volumes:
  certs: {}
  pgdata: {}
`;

// As docker compose v2 prints it: a name, long volume syntax everywhere.
const V2_CONFIG = `name: platform
services:
  web:
    image: nginx
    networks:
      default: null
    volumes:
      - type: bind
        source: /srv/platform/web/site.conf
        target: /etc/nginx/conf.d/site.conf
        read_only: true
        bind:
          create_host_path: true
      - type: volume
        source: data
        target: /data
        volume: {}
    secrets:
      - source: token
  magpie:
    image: magpie
    healthcheck:
      disable: true
    deploy:
      replicas: 2
networks:
  default:
    name: platform_default
secrets:
  token:
    file: /srv/platform/secrets/token.txt
volumes:
  data:
    name: platform_data
`;

function byName(services: readonly ComposeService[], name: string): ComposeService {
  const service = services.find((s) => s.name === name);
  if (service === undefined) throw new Error(`no service ${name}`);
  return service;
}

describe('parseComposeConfig', () => {
  it('reads docker-compose v1 output: images, bind mounts in short and long syntax, configs, healthchecks', () => {
    const config = parseComposeConfig(V1_CONFIG);
    expect(config.projectName).toBeUndefined();
    expect(config.services.map((s) => s.name)).toEqual(['db', 'debug', 'proxy', 'worker']);

    const proxy = byName(config.services, 'proxy');
    expect(proxy.image).toBe('nginx:1.25');
    expect(proxy.hasHealthcheck).toBe(false);
    expect(proxy.mounts).toEqual([
      { source: '/srv/platform/config/proxy', target: '/etc/proxy', readOnly: true, kind: 'volume' },
      { source: '/srv/platform/config/nginx.conf', target: '/etc/nginx/nginx.conf', readOnly: true, kind: 'config' },
    ]);

    const db = byName(config.services, 'db');
    expect(db.hasHealthcheck).toBe(true);
    expect(db.mounts).toEqual([
      { source: '/srv/platform/config/db/init.sql', target: '/docker-entrypoint-initdb.d/init.sql', readOnly: true, kind: 'volume' },
    ]);

    const debug = byName(config.services, 'debug');
    expect(debug.hasHealthcheck).toBe(false);
    expect(debug.profiles).toEqual(['debug']);
    expect(byName(config.services, 'worker').replicas).toBe(0);
  });

  it('reads docker compose v2 output: the project name, long syntax, file secrets, replicas', () => {
    const config = parseComposeConfig(V2_CONFIG);
    expect(config.projectName).toBe('platform');
    const web = byName(config.services, 'web');
    expect(web.mounts).toEqual([
      { source: '/srv/platform/web/site.conf', target: '/etc/nginx/conf.d/site.conf', readOnly: true, kind: 'volume' },
      { source: '/srv/platform/secrets/token.txt', target: '/run/secrets/token', readOnly: true, kind: 'secret' },
    ]);
    const magpie = byName(config.services, 'magpie');
    expect(magpie.hasHealthcheck).toBe(false);
    expect(magpie.replicas).toBe(2);
    expect(magpie.mounts).toEqual([]);
  });

  it('skips the log lines a wrapper script prints on stdout around the configuration', () => {
    const noisy = [
      'INFO:     Displaying resolved compose configurations:',
      'INFO:     COMPOSE_CONF_LIST=',
      'docker-compose.yml',
      V2_CONFIG.trimEnd(),
      'INFO:     done',
    ].join('\n');
    expect(extractConfigYaml(noisy)).not.toContain('INFO');
    expect(parseComposeConfig(noisy)).toEqual(parseComposeConfig(V2_CONFIG));
  });

  it('resolves relative sources against the project directory when given one', () => {
    const text = 'services:\n  a:\n    image: x\n    volumes:\n      - ./conf/a.conf:/a.conf\n      - ../shared:/shared:ro,z\n';
    expect(byName(parseComposeConfig(text, { projectDir: '/srv/platform' }).services, 'a').mounts).toEqual([
      { source: '/srv/platform/conf/a.conf', target: '/a.conf', readOnly: false, kind: 'volume' },
      { source: '/srv/shared', target: '/shared', readOnly: true, kind: 'volume' },
    ]);
  });

  it('returns no services for a configuration without any', () => {
    expect(parseComposeConfig('name: empty\n')).toEqual({ projectName: 'empty', services: [] });
  });

  it('rejects output that is not a compose configuration, with an excerpt', () => {
    expect(() => parseComposeConfig('ERROR: cannot read env.local\n')).toThrow(ComposeConfigError);
    expect(() => parseComposeConfig('services:\n  a: [\n')).toThrow(/invalid YAML/);
    expect(() => parseComposeConfig('services: 3\n')).toThrow(/"services" is not a mapping/);
  });
});

describe('expectedServices', () => {
  it('leaves out services of inactive profiles and services scaled to zero', () => {
    const config = parseComposeConfig(V1_CONFIG);
    expect(expectedServices(config)).toEqual(['db', 'proxy']);
    expect(expectedServices(config, ['debug'])).toEqual(['db', 'debug', 'proxy']);
    expect(expectedServices(config, ['*'])).toEqual(['db', 'debug', 'proxy']);
  });

  it('reads active profiles from COMPOSE_PROFILES', () => {
    expect(profilesFromEnv({ COMPOSE_PROFILES: 'debug, monitoring,' })).toEqual(['debug', 'monitoring']);
    expect(profilesFromEnv({})).toEqual([]);
  });
});

describe('servicesToRestart', () => {
  const services: ComposeService[] = [
    service('proxy', ['/srv/platform/config/proxy']),
    service('db', ['/srv/platform/config/db/init.sql']),
    service('wps', ['/srv/platform/config/wps.cfg', '/srv/platform/config/wps-extra']),
    service('plain', []),
  ];

  it.each<[string, string[], string[]]>([
    ['a file inside a mounted directory', ['/srv/platform/config/proxy/nginx.conf'], ['proxy']],
    ['a file deep inside a mounted directory', ['/srv/platform/config/proxy/sites/a/b.conf'], ['proxy']],
    ['the mounted file itself', ['/srv/platform/config/db/init.sql'], ['db']],
    ['the mounted directory path itself', ['/srv/platform/config/proxy'], ['proxy']],
    ['a sibling that shares a prefix with a mounted directory', ['/srv/platform/config/proxy2/x.conf'], []],
    ['a sibling that shares a prefix with a mounted file', ['/srv/platform/config/db/init.sql.bak'], []],
    ['a directory mount named like a file mount with a suffix', ['/srv/platform/config/wps-extra/a.py'], ['wps']],
    ['a prefix of the mounted file is not inside it', ['/srv/platform/config/wps'], []],
    ['the parent of a mount', ['/srv/platform/config'], []],
    ['unrelated files', ['/srv/platform/README.md', '/srv/platform/docker-compose.yml'], []],
    ['several services at once', ['/srv/platform/config/wps.cfg', '/srv/platform/config/proxy/a'], ['proxy', 'wps']],
    ['a non-normalised changed path', ['/srv/platform/config/./proxy//a.conf'], ['proxy']],
    ['no changes', [], []],
  ])('%s', (_title, changed, expected) => {
    expect(servicesToRestart(services, changed).map((s) => s.service)).toEqual(expected);
  });

  it('says which changed paths reach each service, once each', () => {
    const result = servicesToRestart(services, ['/srv/platform/config/wps.cfg', '/srv/platform/config/wps-extra/b', '/srv/platform/config/wps.cfg']);
    expect(result).toEqual([{ service: 'wps', changed: ['/srv/platform/config/wps-extra/b', '/srv/platform/config/wps.cfg'] }]);
  });

  it('treats a mount of / as containing everything', () => {
    expect(servicesToRestart([service('root', ['/'])], ['/etc/hosts']).map((s) => s.service)).toEqual(['root']);
  });
});

describe('isWithin', () => {
  it.each<[string, string, boolean]>([
    ['/a/b', '/a/b', true],
    ['/a/b/c', '/a/b', true],
    ['/a/bc', '/a/b', false],
    ['/a/b', '/a/bc', false],
    ['/a', '/a/b', false],
    ['/a/b/', '/a/b', true],
    ['/a/b/c', '/a/b/', true],
    ['a/b', 'a', false],
    ['/a/b/../c', '/a/b', false],
  ])('%s within %s: %s', (path, root, expected) => {
    expect(isWithin(path, root)).toBe(expected);
  });
});

describe('notRestartedSince', () => {
  it('keeps the services whose container is the same one, started at the same time', () => {
    const before = [
      { service: 'a', containerId: 'c1', startedAt: 't1' },
      { service: 'b', containerId: 'c2', startedAt: 't1' },
      { service: 'c', containerId: 'c3', startedAt: 't1' },
    ];
    const after = [
      { service: 'a', containerId: 'c1', startedAt: 't1' }, // untouched by up -d
      { service: 'b', containerId: 'c9', startedAt: 't2' }, // recreated
      { service: 'c', containerId: 'c3', startedAt: 't2' }, // restarted
    ];
    expect(notRestartedSince(['a', 'b', 'c', 'd'], before, after)).toEqual(['a']);
  });
});

describe('the restart-on-change label', () => {
  it('is read from a label map or list, and a service labelled "false" is never restarted for a changed file', () => {
    const config = parseComposeConfig(
      [
        'services:',
        '  scheduler:',
        '    image: s',
        '    labels:',
        '      io.autodeploy.restart-on-change: "false"',
        '    volumes: ["/srv/platform:/srv/platform"]',
        '  web:',
        '    image: w',
        '    labels: ["io.autodeploy.restart-on-change=true", "other=1"]',
        '    volumes: ["/srv/platform/www:/www:ro"]',
        '',
      ].join('\n'),
    );
    expect(config.services.map((s) => [s.name, s.restartOnChange])).toEqual([
      ['scheduler', false],
      ['web', true],
    ]);
    expect(servicesToRestart(config.services, ['/srv/platform/www/index.html'])).toEqual([{ service: 'web', changed: ['/srv/platform/www/index.html'] }]);
  });
});

describe('normalizeProjectName', () => {
  it.each([
    ['Birdhouse', 'birdhouse'],
    ['my.platform dir', 'myplatformdir'],
    ['pavics_prod-2', 'pavics_prod-2'],
  ])('%s -> %s', (name, expected) => {
    expect(normalizeProjectName(name)).toBe(expected);
  });
});

function service(name: string, sources: string[], restartOnChange = true): ComposeService {
  return {
    name,
    image: 'x',
    mounts: sources.map((source) => ({ source, target: '/t', readOnly: false, kind: 'volume' as const })),
    hasHealthcheck: false,
    profiles: [],
    replicas: undefined,
    restartOnChange,
  };
}
