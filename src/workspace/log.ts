/**
 * A structured logger that writes one JSON line per entry to stderr. stdout is never
 * used, because on the stdio transport it carries only MCP messages.
 * SEGMENTATION_MCP_LOG sets the level: debug, info (default), warn, error or silent.
 */
type Level = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<Level | 'silent', number> = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 };

function threshold(): number {
  const configured = (process.env.SEGMENTATION_MCP_LOG ?? 'info') as Level | 'silent';
  return ORDER[configured] ?? ORDER.info;
}

function write(level: Level, message: string, fields?: Record<string, unknown>): void {
  if (ORDER[level] < threshold()) return;
  const entry = { time: new Date().toISOString(), level, message, ...fields };
  process.stderr.write(`${JSON.stringify(entry)}\n`);
}

export const log = {
  debug: (message: string, fields?: Record<string, unknown>) => write('debug', message, fields),
  info: (message: string, fields?: Record<string, unknown>) => write('info', message, fields),
  warn: (message: string, fields?: Record<string, unknown>) => write('warn', message, fields),
  error: (message: string, fields?: Record<string, unknown>) => write('error', message, fields),
};
