/**
 * The repository's name in a git URL, as `git clone` would name its directory:
 * `git@github.com:org/pavics-sdi.git` → `pavics-sdi`. A notebook source's deploy key is
 * `<name>_deploy_key`, as a checkout's is `<checkout basename>_deploy_key`.
 * undefined when the URL names no repository (e.g. `host:` or `/`).
 */
export function repositoryName(url: string): string | undefined {
  let path = url.replace(/[?#].*$/, '');
  // scp-like `host:path` and `scheme://host/path` both end in the path.
  path = path.replace(/^[a-z][a-z0-9+.-]*:\/\/[^/]*/i, '');
  path = path.replace(/\/+$/, '').replace(/\.git$/, '').replace(/\/+$/, '');
  const name = path.split(/[/:]/).at(-1) ?? '';
  return name === '' || name === '.' || name === '..' ? undefined : name;
}
