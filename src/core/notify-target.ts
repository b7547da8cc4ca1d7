// Where notifications go, and in which form: parsed from AUTODEPLOY_NOTIFY_URLS.

/**
 * `text`: `{"text": "..."}`, which Slack, Mattermost and Microsoft Teams incoming webhooks all
 * accept; `json`: the event as a JSON object with a `text` field too, for anything else.
 */
export type NotifyForm = 'text' | 'json';

export interface NotifyTarget {
  readonly url: string;
  readonly form: NotifyForm;
}

const TEXT_HOSTS = [/^hooks\.slack\.com$/, /\.webhook\.office\.com$/, /\.logic\.azure\.com$/, /^outlook\.office\.com$/];

/**
 * Each whitespace-separated word is a URL, optionally prefixed with its form (`text+https://…`,
 * `json+https://…`). Without a prefix, Slack's and Teams' hosts and a Mattermost-style path
 * (`/hooks/<id>`) get the text form, and anything else the JSON form.
 * Problems never quote the URL: it holds the webhook's secret.
 */
export function parseNotifyTargets(value: string): { readonly targets: NotifyTarget[]; readonly problems: string[] } {
  const targets: NotifyTarget[] = [];
  const problems: string[] = [];
  value.split(/\s+/).filter((w) => w !== '').forEach((word, index) => {
    const prefixed = /^(text|json)\+(.*)$/.exec(word);
    const raw = prefixed === null ? word : (prefixed[2] ?? '');
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      problems.push(`has URL #${index + 1} that is not a URL (write http(s)://…, optionally prefixed with text+ or json+)`);
      return;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      problems.push(`has URL #${index + 1} that is neither http nor https but ${url.protocol.replace(/:$/, '')}`);
      return;
    }
    const form: NotifyForm = prefixed !== null ? (prefixed[1] as NotifyForm) : TEXT_HOSTS.some((h) => h.test(url.hostname)) || /\/hooks\/[^/]+\/?$/.test(url.pathname) ? 'text' : 'json';
    targets.push({ url: raw, form });
  });
  return { targets, problems };
}
