// The status page's HTML, as plain functions of what the scheduler knows: no I/O here. Every
// text that comes from the platform (job names, commands' output, commit subjects, reasons) goes
// through `text()`, which masks secrets as the logs do and then escapes it for HTML, so that
// nothing a job prints can become markup or show a secret.
//
// Links are relative, so that the page works at the root of the scheduler's port and under
// birdhouse's proxy at /autodeploy/ alike: `root` leads from a page back to the top.

import type { DeployHistoryEntry, DeployStatusSnapshot } from '../core/deploy-snapshot.js';
import type { Masker } from '../core/mask.js';
import type { RunRecord } from '../core/run.js';
import type { ConfigHealth, JobSummary, RunOutputLine } from '../core/scheduler-port.js';

export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export interface PageContext {
  readonly mask: Masker;
  readonly now: Date;
  /** from this page to the top of the status pages: '' or '../../' */
  readonly root: string;
}

const SHORT_COMMIT = 8;

function text(ctx: PageContext, value: string | undefined): string {
  return escapeHtml(ctx.mask(value ?? ''));
}

export function formatDuration(ms: number | undefined): string {
  if (ms === undefined || !Number.isFinite(ms)) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${(ms / 1000).toFixed(s < 10 ? 1 : 0)} s`;
  if (s < 3600) return s % 60 === 0 ? `${s / 60} min` : `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s >= 172_800) return `${Math.round(s / 86_400)} d`;
  const minutes = Math.floor((s % 3600) / 60);
  return minutes === 0 ? `${Math.floor(s / 3600)} h` : `${Math.floor(s / 3600)} h ${minutes} min`;
}

function relative(ms: number): string {
  const abs = Math.abs(ms);
  if (abs < 1000) return 'now';
  const words = abs < 60_000 ? `${Math.round(abs / 1000)} s` : abs < 3_600_000 ? `${Math.round(abs / 60_000)} min` : abs < 172_800_000 ? `${Math.round(abs / 3_600_000)} h` : `${Math.round(abs / 86_400_000)} d`;
  return ms >= 0 ? `in ${words}` : `${words} ago`;
}

/** A time as UTC and relative to now, in a <time> element. */
function when(ctx: PageContext, iso: string | undefined): string {
  if (iso === undefined) return '';
  const at = Date.parse(iso);
  if (Number.isNaN(at)) return text(ctx, iso);
  const utc = new Date(at).toISOString().replace('T', ' ').slice(0, 19);
  return `<time datetime="${escapeHtml(new Date(at).toISOString())}" title="${utc} UTC">${utc}<span class="rel"> (${relative(at - ctx.now.getTime())})</span></time>`;
}

/** A mark that does not rely on colour alone. */
const OUTCOME_GLYPH: Readonly<Record<string, string>> = {
  succeeded: '✓', failed: '✗', error: '✗', 'timed-out': '⏱', skipped: '–', running: '●', interrupted: '↺',
  deployed: '✓', 'rolled-back': '↶', held: '‖', aborted: '✗', nothing: '·', pulled: '↓', locked: '⊘', 'dry-run': '?',
};

function outcome(ctx: PageContext, value: string): string {
  const cls = /^[a-z-]+$/.test(value) ? value : 'other';
  return `<span class="badge o-${cls}">${OUTCOME_GLYPH[value] ?? ''} ${text(ctx, value)}</span>`;
}

function runLink(ctx: PageContext, job: string, run: string): string {
  return `${ctx.root}runs/${encodeURIComponent(job)}/${encodeURIComponent(run)}`;
}

export interface PageParts {
  readonly title: string;
  readonly body: string;
  /** seconds between refreshes while the page is open; 0: none */
  readonly refresh: number;
}

/** The whole document around a page's <main>. */
export function renderDocument(ctx: PageContext, page: PageParts): string {
  const refresh = page.refresh > 0 ? `<noscript><meta http-equiv="refresh" content="${page.refresh}"></noscript>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(page.title)}</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${ctx.root}assets/status.css">
${refresh}
<script src="${ctx.root}assets/status.js" defer></script>
</head>
<body data-refresh="${page.refresh}">
<header><a href="${ctx.root === '' ? './' : ctx.root}">autodeploy</a> <span class="updated">as of <time datetime="${ctx.now.toISOString()}">${ctx.now.toISOString().replace('T', ' ').slice(0, 19)} UTC</time></span></header>
<main>
${page.body}
</main>
</body>
</html>
`;
}

export interface IndexData {
  readonly jobs: readonly JobSummary[];
  /** each job's recent runs, newest first */
  readonly runs: ReadonlyMap<string, readonly RunRecord[]>;
  readonly intervals: ReadonlyMap<string, number | undefined>;
  readonly status: DeployStatusSnapshot;
  readonly health: ConfigHealth | undefined;
  readonly deployJob: string;
}

const STRIP_RUNS = 20;

function strip(ctx: PageContext, job: string, runs: readonly RunRecord[]): string {
  const marks = runs.slice(0, STRIP_RUNS).reverse().map((r) => {
    const title = `${r.outcome} · ${r.startedAt.replace('T', ' ').slice(0, 19)} UTC${r.durationMs === undefined ? '' : ` · ${formatDuration(r.durationMs)}`}${r.message === undefined ? '' : ` · ${r.message}`}`;
    const cls = /^[a-z-]+$/.test(r.outcome) ? r.outcome : 'other';
    return `<a class="mark o-${cls}" href="${runLink(ctx, job, r.run)}" title="${text(ctx, title)}" aria-label="${text(ctx, title)}">${OUTCOME_GLYPH[r.outcome] ?? ''}</a>`;
  });
  return marks.length === 0 ? '<span class="none">no runs yet</span>' : `<span class="strip">${marks.join('')}</span>`;
}

function configBanner(ctx: PageContext, health: ConfigHealth | undefined): string {
  if (health === undefined) return '';
  const parts: string[] = [];
  if (!health.valid) parts.push(`<p class="alert">The configuration was refused (${health.problems} problem${health.problems === 1 ? '' : 's'}): the last valid job table keeps running. Run <code>autodeploy validate</code> to see why.</p>`);
  if (health.refused > 0) parts.push(`<p class="alert">${health.refused} job${health.refused === 1 ? ' is' : 's are'} refused; every other job runs. <code>autodeploy validate</code> names the problems.</p>`);
  return parts.join('\n');
}

function jobsTable(ctx: PageContext, data: IndexData): string {
  const rows = data.jobs.map((job) => {
    const last = job.lastRun;
    const interval = data.intervals.get(job.name);
    const [first, ...later] = job.nextRuns;
    const next = first === undefined
      ? '<span class="none">not scheduled</span>'
      : `${when(ctx, first)}${later.map((t) => `<br><small>then ${when(ctx, t)}</small>`).join('')}${interval === undefined ? '' : `<br><small>about every ${formatDuration(interval * 1000)}</small>`}`;
    const lastCell = job.running
      ? outcome(ctx, 'running')
      : last === undefined ? '<span class="none">never run</span>' : `<a href="${runLink(ctx, job.name, last.run)}">${outcome(ctx, last.outcome)}</a> <small>${formatDuration(last.durationMs)}</small><br><small>${when(ctx, last.endedAt ?? last.startedAt)}</small>`;
    return `<tr class="job${job.enabled ? '' : ' disabled'}" data-job="${text(ctx, job.name)}">
<th scope="row">${text(ctx, job.name)}<br><small>${text(ctx, job.kind)}${job.enabled ? '' : ' · disabled'}</small>${job.comment === undefined ? '' : `<br><small class="comment">${text(ctx, job.comment)}</small>`}</th>
<td data-label="schedule"><code>${text(ctx, job.schedule) || '<span class="none">none</span>'}</code></td>
<td data-label="next runs">${next}</td>
<td data-label="last run">${lastCell}</td>
<td data-label="recent runs">${strip(ctx, job.name, data.runs.get(job.name) ?? [])}</td>
</tr>`;
  });
  return `<section id="jobs"><h2>Jobs</h2>
<div class="scroll"><table class="cards">
<thead><tr><th scope="col">job</th><th scope="col">schedule</th><th scope="col">next runs</th><th scope="col">last run</th><th scope="col">recent runs</th></tr></thead>
<tbody>
${rows.join('\n') || '<tr><td colspan="5" class="none">no job in the table</td></tr>'}
</tbody></table></div></section>`;
}

function checkoutsSection(ctx: PageContext, data: IndexData): string {
  const status = data.status;
  if (status.checkedAt === undefined) return `<section id="checkouts"><h2>Checkouts</h2><p class="none">No check seen yet: the next run of <code>${text(ctx, data.deployJob)}</code> tells.</p></section>`;
  const rows = status.checkouts.map((c) => `<tr data-checkout="${text(ctx, c.path)}">
<th scope="row"><code>${text(ctx, c.path)}</code>${c.branch === undefined ? '' : `<br><small>${text(ctx, c.branch)}${c.upstream === undefined ? '' : ` → ${text(ctx, c.upstream)}`}</small>`}</th>
<td data-label="verdict"><span class="badge v-${/^[a-z-]+$/.test(c.verdict) ? c.verdict : 'other'}">${text(ctx, c.verdict)}</span></td>
<td data-label="why">${text(ctx, c.reason)}</td>
<td data-label="commits" class="num">${c.behind} behind · ${c.ahead} ahead</td>
</tr>`);
  const decision = status.decision === undefined ? '' : `<p class="decision">Next deploy: <strong>${text(ctx, status.decision.action)}</strong>: ${text(ctx, status.decision.reason)}${status.decision.deploy.length === 0 ? '' : ` (deploys ${status.decision.deploy.map((p) => `<code>${text(ctx, p)}</code>`).join(', ')})`}</p>`;
  return `<section id="checkouts"><h2>Checkouts</h2>
<p><small>as judged by run <a href="${runLink(ctx, data.deployJob, status.run ?? '')}">${text(ctx, status.run)}</a>, ${when(ctx, status.checkedAt)}</small></p>
${decision}
<div class="scroll"><table class="cards">
<thead><tr><th scope="col">checkout</th><th scope="col">verdict</th><th scope="col">why</th><th scope="col">commits</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table></div></section>`;
}

function deployEntry(ctx: PageContext, deployJob: string, e: DeployHistoryEntry): string {
  const pulled = e.pulled.map((p) => {
    const commits = p.commits.map((c) => `<li><code>${text(ctx, c.commit.slice(0, SHORT_COMMIT))}</code> ${text(ctx, c.subject)}</li>`).join('');
    return `<div><code>${text(ctx, p.path)}</code> <code>${text(ctx, p.from.slice(0, SHORT_COMMIT))}..${text(ctx, p.to.slice(0, SHORT_COMMIT))}</code>${commits === '' ? '' : `<ul class="commits">${commits}</ul>`}</div>`;
  }).join('');
  const details: string[] = [];
  if (e.restarted !== undefined && e.restarted.length > 0) details.push(`restarted: ${e.restarted.map((s) => `<code>${text(ctx, s)}</code>`).join(' ')}`);
  if (e.verification !== undefined) details.push(`verification: ${e.verification.ok ? 'passed' : `<strong>failed</strong> (${text(ctx, e.verification.outcome)})`} after ${formatDuration(e.verification.waitedMs)}`);
  if (e.rollback !== undefined) details.push(`rollback: ${e.rollback.ok ? 'every checkout back, platform healthy' : '<strong>incomplete</strong>'}: ${text(ctx, e.rollback.reason)}`);
  return `<li class="deploy" data-outcome="${text(ctx, e.outcome)}">
<div>${outcome(ctx, e.outcome)} ${when(ctx, e.endedAt)} <small>${formatDuration(e.durationMs)}</small> <a href="${runLink(ctx, deployJob, e.run)}">run ${text(ctx, e.run)}</a></div>
<div>${text(ctx, e.message)}</div>
${pulled}
${details.length === 0 ? '' : `<div class="details">${details.join('<br>')}</div>`}
</li>`;
}

export function renderIndex(ctx: PageContext, data: IndexData): PageParts {
  const history = data.status.history;
  const deploys = history.length === 0
    ? '<p class="none">No deploy yet.</p>'
    : `<ol class="deploys">${history.map((e) => deployEntry(ctx, data.deployJob, e)).join('\n')}</ol>`;
  const body = `${configBanner(ctx, data.health)}
${jobsTable(ctx, data)}
${checkoutsSection(ctx, data)}
<section id="deploys"><h2>Deploys</h2>
${deploys}
</section>`;
  return { title: 'autodeploy status', body, refresh: 10 };
}

export interface RunPageData {
  readonly job: string;
  readonly record: RunRecord;
  readonly output: readonly RunOutputLine[];
}

export function renderRun(ctx: PageContext, data: RunPageData): PageParts {
  const r = data.record;
  const running = r.outcome === 'running';
  const lines = data.output.map((l) => `<div class="line ${l.stream ?? 'log'}"><span class="t">${escapeHtml(l.time.slice(11, 19))}</span> ${text(ctx, l.text)}</div>`);
  const body = `<h1>${text(ctx, data.job)} <small>run ${text(ctx, r.run)}</small></h1>
<p>${outcome(ctx, r.outcome)} started ${when(ctx, r.startedAt)} by ${text(ctx, r.origin)}${r.by === undefined ? '' : ` (${text(ctx, r.by)})`}${running ? '' : ` · took ${formatDuration(r.durationMs)}${r.exitCode === undefined ? '' : ` · exit code ${r.exitCode}`}`}</p>
${r.message === undefined ? '' : `<p>${text(ctx, r.message)}</p>`}
<p><small>More: <code>autodeploy logs ${text(ctx, data.job)}</code></small></p>
<div class="output" id="output">${lines.join('') || '<span class="none">no output</span>'}</div>`;
  return { title: `${data.job} ${r.run}${running ? ' (running)' : ''}`, body, refresh: running ? 2 : 0 };
}

export function renderMessage(title: string, message: string): PageParts {
  return { title, body: `<h1>${escapeHtml(title)}</h1>\n${message}`, refresh: 0 };
}
