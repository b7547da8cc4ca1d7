// The status page's stylesheet and script, served as files so that the page's Content Security
// Policy allows no inline code. The script only makes the page refresh itself in place; without
// it a <noscript> meta refresh does the same by reloading.

export const STATUS_CSS = `
:root { color-scheme: light dark; --ok: #1a7f37; --bad: #cf222e; --warn: #bc4c00; --info: #0969da; --mute: #6e7781; --line: #d0d7de; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { padding: .6rem 1rem; border-bottom: 1px solid var(--line); display: flex; flex-wrap: wrap; gap: .3rem 1rem; align-items: baseline; }
header a { font-weight: 600; text-decoration: none; color: inherit; }
.updated { color: var(--mute); font-size: .85em; }
main { padding: 0 1rem 2rem; max-width: 80rem; }
h1 { font-size: 1.3rem; } h2 { font-size: 1.1rem; margin-top: 1.6rem; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid var(--line); }
thead th { font-size: .85em; color: var(--mute); font-weight: 600; }
tr.disabled { opacity: .6; }
small, .none { color: var(--mute); }
code { font: .9em ui-monospace, SFMono-Regular, Menlo, monospace; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 0 .45em; border-radius: .8em; font-size: .85em; white-space: nowrap; border: 1px solid currentColor; }
.o-succeeded, .o-deployed, .v-up-to-date { color: var(--ok); }
.o-failed, .o-error, .o-aborted, .o-rolled-back, .v-error, .v-dirty, .v-missing { color: var(--bad); }
.o-timed-out, .o-held, .v-behind, .v-divergent, .v-no-upstream, .v-detached, .o-locked { color: var(--warn); }
.o-running, .o-pulled, .v-ahead { color: var(--info); }
.o-skipped, .o-nothing, .o-interrupted, .o-dry-run, .o-other, .v-other { color: var(--mute); }
.strip { display: inline-flex; flex-wrap: wrap; gap: 2px; }
.mark { display: inline-block; width: 1.25em; height: 1.5em; line-height: 1.5em; text-align: center; font-size: .8em; text-decoration: none; border-radius: 2px; color: #fff; background: var(--mute); }
.mark.o-succeeded { background: var(--ok); } .mark.o-failed, .mark.o-error { background: var(--bad); }
.mark.o-timed-out { background: var(--warn); } .mark.o-running { background: var(--info); }
.alert { border-left: 4px solid var(--bad); padding: .4rem .7rem; background: rgba(207, 34, 46, .08); }
.decision { margin: .3rem 0 .6rem; }
ol.deploys { list-style: none; padding: 0; }
li.deploy { border-bottom: 1px solid var(--line); padding: .5rem 0; }
li.deploy > div { margin: .15rem 0; }
ul.commits { margin: .2rem 0; padding-left: 1.2rem; }
.details { font-size: .9em; }
.output { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; background: #0d1117; color: #e6edf3; padding: .6rem; border-radius: 6px; overflow-x: auto; }
.output .line { white-space: pre-wrap; overflow-wrap: anywhere; }
.output .stderr { color: #ff7b72; } .output .log { color: #8b949e; } .output .t { color: #6e7681; }
form.token { display: flex; gap: .5rem; flex-wrap: wrap; } form.token input { flex: 1 1 14rem; padding: .4rem; }
@media (max-width: 40rem) {
  body { font-size: 14px; } main { padding: 0 .5rem 2rem; }
  /* A table row per job is too wide for a phone: each row becomes a card, each cell a labelled line. */
  table.cards, table.cards tbody, table.cards tr, table.cards th, table.cards td { display: block; width: 100%; }
  table.cards thead { display: none; }
  table.cards tr { border-bottom: 1px solid var(--line); padding: .4rem 0; }
  table.cards th, table.cards td { border: 0; padding: .1rem 0; }
  table.cards td[data-label]::before { content: attr(data-label) ": "; color: var(--mute); font-size: .85em; }
  .mark { width: 1.6em; height: 1.8em; line-height: 1.8em; }
}
`;

export const STATUS_JS = `
'use strict';
(function () {
  var timer;
  function every() { return Number(document.body.getAttribute('data-refresh') || '0'); }
  function schedule() {
    clearTimeout(timer);
    var s = every();
    if (s > 0) timer = setTimeout(refresh, s * 1000);
  }
  function refresh() {
    var nearBottom = window.innerHeight + window.scrollY >= document.body.scrollHeight - 40;
    fetch(location.href, { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(function (response) { return response.ok ? response.text() : Promise.reject(response.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, 'text/html');
        var main = document.querySelector('main');
        var next = fresh.querySelector('main');
        var header = document.querySelector('header');
        var nextHeader = fresh.querySelector('header');
        if (main === null || next === null) return;
        main.replaceWith(document.importNode(next, true));
        if (header !== null && nextHeader !== null) header.replaceWith(document.importNode(nextHeader, true));
        document.title = fresh.title;
        document.body.setAttribute('data-refresh', fresh.body.getAttribute('data-refresh') || '0');
        if (nearBottom && document.getElementById('output') !== null) window.scrollTo(0, document.body.scrollHeight);
      })
      .catch(function () { /* the next tick tries again */ })
      .then(schedule);
  }
  schedule();
})();
`;
