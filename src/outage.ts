// A backing service's outage in the log as state changes: one warning when it starts, a reminder
// at most once a minute with how many requests it touched, one line when it ends. A warning per
// request had written 26 MB of log during one Redis outage.
import type { FastifyBaseLogger } from 'fastify';

const REMINDER_MS = 60_000;

export class OutageLog {
  private since: number | null = null;
  private affected = 0;
  private remindedAt = 0;

  constructor(
    private readonly service: string,
    private readonly log: () => FastifyBaseLogger,
    private readonly now = () => Date.now(),
  ) {}

  get isDown(): boolean {
    return this.since !== null;
  }

  /** A request met the outage (`log`: the request's logger, so the first line names the request). */
  down(err: Error, log: FastifyBaseLogger = this.log()): void {
    this.affected++;
    const now = this.now();
    if (this.since === null) {
      this.since = this.remindedAt = now;
      log.warn({ err, service: this.service }, `${this.service} unavailable: answering degraded or 503 until it is back`);
    } else if (now - this.remindedAt >= REMINDER_MS) {
      this.remindedAt = now;
      this.log().warn({ err, service: this.service, requests: this.affected, seconds: Math.round((now - this.since) / 1000) }, `${this.service} still unavailable`);
    }
  }

  /** The service answered: ends an outage (cheap when there is none: it runs on every request). */
  up(): void {
    if (this.since === null) return;
    this.log().info({ service: this.service, requests: this.affected, seconds: Math.round((this.now() - this.since) / 1000) }, `${this.service} is back`);
    this.since = null;
    this.affected = 0;
  }
}

export interface Outages {
  redis: OutageLog;
  postgres: OutageLog;
}
