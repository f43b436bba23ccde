import type { LoggerOptions } from 'pino';

/** pino settings shared by the server and the jobs; secrets never reach the log. */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie', '*.token', '*.password', '*.secret'],
      censor: '[redacted]',
    },
  };
}
