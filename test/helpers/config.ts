import { formatIssue } from '../../src/core/issues.js';
import type { Config, LoadResult } from '../../src/config/load.js';

/** The configuration of a load that must succeed; otherwise the test fails with every problem found. */
export function validConfig(result: LoadResult): Config {
  if (!result.ok) throw new Error(`expected a valid configuration, got:\n${result.issues.map(formatIssue).join('\n')}`);
  return result.config;
}

/** The problems of a load that must be refused, as an operator reads them. */
export function refusedIssues(result: LoadResult): string[] {
  if (result.ok) throw new Error('expected the configuration to be refused');
  return result.issues.map(formatIssue);
}
