// One line per event. Human-readable by default, JSON lines with --json.

export type LogLevel = 'info' | 'warn' | 'error';
export type LogFields = Record<string, string | number | boolean | null | undefined>;

export interface Logger {
  info(event: string, message: string, fields?: LogFields): void;
  warn(event: string, message: string, fields?: LogFields): void;
  error(event: string, message: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  json?: boolean;
  now?: () => number;
  /** Where lines go; defaults to stdout (info) and stderr (warn, error). */
  write?: (level: LogLevel, line: string) => void;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const now = options.now ?? Date.now;
  const write =
    options.write ??
    ((level: LogLevel, line: string) => {
      (level === 'info' ? process.stdout : process.stderr).write(`${line}\n`);
    });
  const emit = (level: LogLevel, event: string, message: string, fields: LogFields = {}) => {
    const ts = new Date(now()).toISOString();
    if (options.json) {
      write(level, JSON.stringify({ ts, level, event, message, ...fields }));
      return;
    }
    const extra = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${typeof v === 'string' && /\s/.test(v) ? JSON.stringify(v) : String(v)}`)
      .join(' ');
    write(level, `${ts} ${level.toUpperCase().padEnd(5)} ${message}${extra ? ` ${extra}` : ''}`);
  };
  return {
    info: (e, m, f) => emit('info', e, m, f),
    warn: (e, m, f) => emit('warn', e, m, f),
    error: (e, m, f) => emit('error', e, m, f),
  };
}

/** A logger that keeps its records, for tests and for callers that want to inspect events. */
export function createMemoryLogger(): Logger & {
  records: { level: LogLevel; event: string; message: string; fields: LogFields }[];
} {
  const records: { level: LogLevel; event: string; message: string; fields: LogFields }[] = [];
  const push =
    (level: LogLevel) =>
    (event: string, message: string, fields: LogFields = {}) => {
      records.push({ level, event, message, fields });
    };
  return { records, info: push('info'), warn: push('warn'), error: push('error') };
}
