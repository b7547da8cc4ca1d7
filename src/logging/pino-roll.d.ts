// pino-roll ships no types; this covers what src/logging uses of it.
declare module 'pino-roll' {
  import type { EventEmitter } from 'node:events';

  namespace pinoRoll {
    interface Options {
      /** base path; `.<date>.<n>.<extension>` is appended */
      file: string;
      /** `10m`, `500k`, `1g`; a bare number is megabytes */
      size?: string | number;
      frequency?: 'daily' | 'hourly' | number;
      extension?: string;
      /** date-fns format of the date put in the file names */
      dateFormat?: string;
      limit?: { count: number; removeOtherLogFiles?: boolean };
      symlink?: boolean;
      mkdir?: boolean;
      sync?: boolean;
      fsync?: boolean;
    }

    /** The sonic-boom stream pino-roll returns. */
    interface RollStream extends EventEmitter {
      /** path of the file being written; null until the first open completes */
      readonly file: string | null;
      readonly fd: number;
      readonly destroyed: boolean;
      write(data: string): boolean;
      end(): void;
      destroy(): void;
    }
  }

  function pinoRoll(options: pinoRoll.Options): Promise<pinoRoll.RollStream>;
  export = pinoRoll;
}
