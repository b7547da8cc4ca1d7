// Errors of the log writer and reader. Each names the file or setting at fault.

/** A log file could not be opened, written, linked or read. */
export class LogFileError extends Error {
  override readonly name = 'LogFileError';
  readonly file: string;

  constructor(message: string, options: { readonly file: string; readonly cause?: unknown }) {
    super(message, { cause: options.cause });
    this.file = options.file;
  }
}

/** A logging setting has a value the writer cannot use. */
export class LogSettingError extends Error {
  override readonly name = 'LogSettingError';
  readonly setting: string;
  readonly value: string;

  constructor(message: string, options: { readonly setting: string; readonly value: string }) {
    super(message);
    this.setting = options.setting;
    this.value = options.value;
  }
}

/** The system's own words for an error, for the end of an operator-facing sentence. */
export function describeCause(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
