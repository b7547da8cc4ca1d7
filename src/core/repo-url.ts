// One name for one repository, whatever form its URL takes: a push announced by a git host
// carries https and ssh URLs, and a checkout's remote may be written in any of the forms git
// accepts (https://, ssh://, the scp form host:path, with or without `.git` or a user).

/**
 * `host/path` in lower case, without user, port, `.git` or trailing slash (`file:<path>` for a
 * repository on this host, case kept); undefined for a form git would not read as a repository.
 * https://github.com/Org/Repo.git, ssh://git@github.com:22/org/repo and git@github.com:org/repo
 * are all `github.com/org/repo`.
 */
export function repositoryKey(url: string): string | undefined {
  const text = url.trim();
  if (text === '') return undefined;
  // A repository on this host (a mirror, a test's bare upstream): its path is its name.
  if (text.startsWith('/')) return localKey(text);
  let host: string;
  let path: string;
  const withScheme = /^([a-z][a-z0-9+.-]*):\/\/(.*)$/i.exec(text);
  if (withScheme !== null) {
    const scheme = (withScheme[1] ?? '').toLowerCase();
    const rest = withScheme[2] ?? '';
    if (scheme === 'file') return rest.startsWith('/') ? localKey(rest) : undefined;
    const slash = rest.indexOf('/');
    if (slash < 0) return undefined;
    host = rest.slice(0, slash);
    path = rest.slice(slash + 1);
  } else {
    // The scp form: [user@]host:path, where the host has no slash before the colon.
    const scp = /^([^/:]+):(.+)$/.exec(text);
    if (scp === null) return undefined;
    host = scp[1] ?? '';
    path = scp[2] ?? '';
  }
  host = host.replace(/^[^@]*@/, '').replace(/:\d*$/, '').replace(/^\[|\]$/g, '').toLowerCase();
  // A user's home (~user/repo) is a path on that host: kept, as the host would read it.
  path = path.replace(/^\/+/, '').replace(/\/+$/, '').replace(/\.git$/i, '').replace(/\/+$/, '').toLowerCase();
  if (host === '' || path === '') return undefined;
  return `${host}/${path}`;
}

function localKey(path: string): string | undefined {
  const trimmed = path.replace(/\/+$/, '').replace(/\.git$/, '').replace(/\/+$/, '');
  return trimmed === '' ? undefined : `file:${trimmed}`;
}

/** The branch a ref names (`refs/heads/main` is `main`); undefined for a tag or another ref. */
export function branchOfRef(ref: string): string | undefined {
  return ref.startsWith('refs/heads/') ? ref.slice('refs/heads/'.length) : undefined;
}
