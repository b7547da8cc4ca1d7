/** One problem found in the operator's configuration, pointing at where it is. */
export interface ConfigIssue {
  readonly file: string;
  /** 1-based; undefined when the problem is not on one line (e.g. a missing setting) */
  readonly line: number | undefined;
  readonly message: string;
  /** the job it is about: a problem of one job refuses that job alone */
  readonly job?: string | undefined;
  readonly key?: string | undefined;
}

/** `file:line`, or the file alone when there is no line. */
export function place(where: { readonly file: string; readonly line: number | undefined }): string {
  return where.line === undefined ? where.file : `${where.file}:${where.line}`;
}

/** `file:line: message`, the form editors and `grep -n` users jump to. */
export function formatIssue(issue: ConfigIssue): string {
  return `${place(issue)}: ${issue.message}`;
}

