// Renders section results as aligned text tables.

import type { ResultRow } from './section.js';

const HEADER = ['metric', 'measured', 'baseline', 'target', 'result'] as const;

export function renderTable(rows: readonly ResultRow[]): string {
  const cells = rows.map((r) => [r.metric, r.measured, r.baseline, r.target, r.verdict === 'info' ? '' : r.verdict]);
  const widths = HEADER.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] ?? '').length)));
  const line = (c: readonly string[]): string => c.map((v, i) => v.padEnd(widths[i] ?? 0)).join(' | ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('-+-');
  return [line(HEADER), rule, ...cells.map(line)].join('\n');
}
