import { gitClient } from './git-client.js';

export interface CommitSummary {
  readonly commit: string;
  readonly subject: string;
}

/** The commits in `from..to`, newest first, with their subjects (what the deploy log shows). */
export async function commitsBetween(path: string, from: string, to: string, limit = 50): Promise<CommitSummary[]> {
  const out = await gitClient(path).run(['log', `--max-count=${limit}`, '--format=%H%x09%s', `${from}..${to}`]);
  return out
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => {
      const tab = line.indexOf('\t');
      return { commit: line.slice(0, tab), subject: line.slice(tab + 1) };
    });
}
