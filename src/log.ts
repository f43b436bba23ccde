import type { FastifyRequest } from 'fastify';
import type { LoggerOptions } from 'pino';
import { redactSecrets } from './auth/log-redaction.ts';

/** pino settings shared by the server and the jobs; secrets never reach the log. */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: ['req.headers.authorization', 'req.headers["x-api-key"]', 'req.headers.cookie', '*.token', '*.password', '*.secret'],
      censor: '[redacted]',
    },
    // Fastify logs each request's URL with its query string: user tokens and signatures are masked.
    serializers: {
      req: (req: FastifyRequest) => ({ method: req.method, url: redactSecrets(req.url), host: req.host, remoteAddress: req.ip, remotePort: req.socket?.remotePort }),
    },
    // Messages can quote a URL too (Fastify's "Route GET:/x?token=… not found").
    hooks: {
      logMethod(args, method) {
        method.apply(this, args.map((arg) => (typeof arg === 'string' ? redactSecrets(arg) : arg)) as Parameters<typeof method>);
      },
    },
  };
}
