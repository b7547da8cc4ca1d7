// What every benchmark section is: a name and a measurement that returns rows.
// A new section is a module exporting a `Section`, listed in main.ts.

import type Docker from 'dockerode';
import type { Cleanups } from './cleanups.js';

/** PASS/MISS against a target; `info` for a value shown without one. */
export type Verdict = 'PASS' | 'MISS' | 'info';

export interface ResultRow {
  readonly metric: string;
  readonly measured: string;
  readonly baseline: string;
  readonly target: string;
  readonly verdict: Verdict;
}

export interface SectionResult {
  readonly rows: readonly ResultRow[];
  /** Lines printed under the table: what was measured and how. */
  readonly notes: readonly string[];
}

/** What main.ts found before any section runs. */
export interface BenchContext {
  readonly repoRoot: string;
  readonly docker: Docker;
  /** Path of the docker CLI used for baselines. */
  readonly dockerCli: string;
  readonly testImage: string;
  /** Where a section registers what its `finally` undoes, so that an interrupt undoes it too. */
  readonly cleanups: Cleanups;
  /** Aborted on an interrupt: a section checks it before starting anything new. */
  readonly signal: AbortSignal;
}

export interface Section {
  readonly name: string;
  /** false: runs without a Docker engine or the test image (default true) */
  readonly needsDocker?: boolean;
  run(context: BenchContext): Promise<SectionResult>;
}

/** The benchmark itself cannot run (no engine, no image, build failed): exit non-zero. */
export class BenchUnavailable extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BenchUnavailable';
  }
}
