// Remote URLs end up in logs and reports; they can carry credentials
// (`https://user:token@host/...`), and ssh ones name the host that known_hosts must vouch for.

// The user info runs to the last `@` before the host: a password may hold an `@` of its own.
const URL_WITH_USERINFO = /\b([a-z][a-z0-9+.-]*):\/\/([^\s/?#]+)@/gi;
const HTTP_LIKE = /^(https?|ftps?)$/i;
/** Query parameters that carry a credential by their name, as tokens in URLs usually are. */
const CREDENTIAL_PARAMETER = /([?&;](?:[a-z0-9_.-]*(?:token|secret|password|passwd|pwd|apikey|api_key|api-key|key|sig|signature|auth|credential|session)[a-z0-9_.-]*)=)([^&#\s"'<>]+)/gi;

/**
 * The text with the credentials of any URL in it replaced by `***`: the password of the user
 * info (for http(s) the whole user info, since a token is often given as the user name), and
 * the value of every query parameter named like a credential (`?access_token=`, `&sig=`).
 */
export function redactCredentials(text: string): string {
  if (!text.includes('://') && !/[?&;]/.test(text)) return text;
  return text
    .replace(URL_WITH_USERINFO, (_match, scheme: string, userinfo: string) => {
      if (HTTP_LIKE.test(scheme)) return `${scheme}://***@`;
      const colon = userinfo.indexOf(':');
      return colon === -1 ? `${scheme}://${userinfo}@` : `${scheme}://${userinfo.slice(0, colon)}:***@`;
    })
    .replace(CREDENTIAL_PARAMETER, (_match, name: string) => `${name}***`);
}

/** A URL that carries a credential: a password in its user info, or a query parameter named like one. */
export function hasCredentials(value: string): boolean {
  return redactCredentials(value) !== value;
}

/**
 * How known_hosts names the host of an ssh remote: `host`, or `[host]:port` off port 22.
 * undefined for remotes that do not go through ssh (https, file paths).
 * Follows git's rules for telling an scp-like `host:path` from a local path (git's url.c, connect.c).
 */
export function knownHostsName(remoteUrl: string): string | undefined {
  const ssh = /^(?:ssh|git\+ssh|ssh\+git):\/\/(?:[^@/]*@)?(\[[^\]]+\]|[^:/]+)(?::(\d*))?(?:\/|$)/i.exec(remoteUrl);
  if (ssh !== null) {
    const host = (ssh[1] ?? '').replace(/^\[(.*)\]$/, '$1');
    const port = ssh[2];
    return port !== undefined && port !== '' && port !== '22' ? `[${host}]:${port}` : host;
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(remoteUrl)) return undefined;
  // scp-like syntax: a colon before any slash, e.g. git@github.com:org/repo.git
  const scp = /^(?:[^@/:]*@)?(\[[^\]]+\]|[^:/]+):/.exec(remoteUrl);
  if (scp === null) return undefined;
  return (scp[1] ?? '').replace(/^\[(.*)\]$/, '$1');
}
