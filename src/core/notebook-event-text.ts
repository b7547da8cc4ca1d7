// The line a person reads for each event of a notebook publish: what
// `autodeploy notebooks` prints, and the message of the event's record in
// notebookdeploy.log.

import type { NotebookEvent } from './notebook-events.js';
import { shortId } from './short-id.js';

const short = (commit: string): string => shortId(commit);
const plural = (n: number, noun: string): string => `${n} ${noun}${n === 1 ? '' : 's'}`;
/** matched paths that are not regular files, named in a fetch's line */
const LISTED_SKIPPED = 10;

export function notebookEventText(event: NotebookEvent): string {
  switch (event.type) {
    case 'started':
      return `notebooks ${event.mode === 'dry-run' ? 'dry run' : event.mode} started at ${event.at}: ${plural(event.sources, 'source')}, target ${event.target}, owner ${event.owner}`;
    case 'no-sources':
      return `no notebook sources: AUTODEPLOY_NOTEBOOK_SOURCES is empty in ${event.envFile}; nothing to publish`;
    case 'source-fetched': {
      const moved = event.previous === undefined ? 'first fetch' : event.previous === event.commit ? 'not moved' : `moved from ${short(event.previous)}`;
      const dest = event.dest === '' ? '' : ` into ${event.dest}/`;
      const key = event.key.path === undefined ? '' : `, deploy key ${event.key.path} (${event.key.reason})`;
      const n = event.skipped.length;
      const skipped = n === 0 ? '' : `; ${n} matched path${n === 1 ? ' is' : 's are'} not a regular file and not published: ${event.skipped.slice(0, LISTED_SKIPPED).join(', ')}`;
      return `${event.label}: commit ${event.commit} (${moved}), ${plural(event.files, 'file')} matching ${event.glob}${dest}${key}${skipped}`;
    }
    case 'source-failed':
      return `failed: ${event.reason}`;
    case 'collision':
      return event.kind === 'same-path'
        ? `collision: ${event.path} is published by both ${event.firstLabel} and ${event.secondLabel}`
        : `collision: ${event.path} is a file of ${event.firstLabel} but a directory of ${event.secondLabel}`;
    case 'restored':
      return `restored ${event.target} -> version ${event.version}: an earlier run had stopped before making the link`;
    case 'journal-repaired':
      return `recorded the link to version ${event.version}, made at ${event.at}, which the journal had missed`;
    case 'leftovers-removed':
      return `removed what an earlier run left unfinished: ${event.names.join(', ')}`;
    case 'file-changed':
      return `  ${event.change}: ${event.path}`;
    case 'more-changes':
      return `  ... and ${event.count} more ${event.change}`;
    case 'staging':
      return `staging version ${event.version} (${plural(event.files, 'file')}) in ${event.dir}`;
    case 'directory-adopted':
      return `moved the existing directory ${event.target} to version ${event.version}, kept as it is for --rollback`;
    case 'directory-in-the-way':
      return `a directory appeared at ${event.target} during the swap; moved it to version ${event.version} and tried again`;
    case 'published':
    case 'rolled-back':
      return `swapped ${event.target} -> ${event.link}${event.replaced === undefined ? '' : ` (was version ${event.replaced})`}`;
    case 'caches-removed':
      return `removed the git caches of sources no longer listed: ${event.names.join(', ')}`;
    case 'tidy-up-failed':
      return `${event.after === 'publish' ? 'published' : 'rolled back'}, but tidying up after it failed: ${event.reason}`;
    case 'prune-skipped':
      return `older versions are kept: Docker could not be asked which running containers mount them (${event.reason})`;
    case 'pruned':
      return `removed version ${event.version}: no running container can have it mounted`;
    case 'prune-failed':
      return `version ${event.version} could not be removed: ${event.reason}`;
    case 'version-kept':
      return `kept version ${event.version}: ${event.why}`;
    case 'finished':
      return `notebooks finished at ${event.endedAt} (${(event.durationMs / 1000).toFixed(1)}s): ${event.outcome}: ${event.message}`;
  }
}
