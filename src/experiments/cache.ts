// Experiment definitions held in-process for a few seconds, so serving a variant costs no
// PostgreSQL read per request: one read per experiment per interval, shared by concurrent
// requests. A failed re-read keeps serving the last definition read (a start or stop then
// takes effect a little later); an experiment never read fails the request.
import { HttpError } from '../http/errors.ts';
import { inAudience, type Audience, type AudienceFacts } from '../lifecycle/audiences.ts';
import { assign, type Assignment } from './assignment.ts';
import type { Experiment } from './definition.ts';

/** The customer a user id counts for in an experiment, and the variant that customer keeps there (null: the hash decides). */
export interface ExperimentIdentity {
  user: string;
  variant: string | null;
}

interface Entry {
  experiment: Experiment | null;
  readAt: number;
  reading: Promise<Experiment | null> | null;
}

// Ids come from clients: past this many, the oldest entry makes room (memory stays bounded).
const MAX_ENTRIES = 1000;

export class ExperimentCache {
  private readonly entries = new Map<string, Entry>();

  /**
   * `facts`: a user's lifecycle facts (null: none, or opted out), what an audience-limited
   * experiment decides entry on. `identity`: the customer a user id counts for in an experiment
   * and the variant that customer keeps there (docs/identity.md); null when it cannot be told.
   */
  constructor(
    private readonly load: (tenant: string, id: string) => Promise<Experiment | null>,
    private readonly ttlMs: number,
    private readonly facts: (tenant: string, user: string) => Promise<AudienceFacts | null> = async () => null,
    private readonly identity: (tenant: string, experimentId: string, user: string) => Promise<ExperimentIdentity | null> = async (_tenant, _id, user) => ({ user, variant: null }),
  ) {}

  /** The definition, at most `ttlMs` old; null when there is no such experiment. */
  get(tenant: string, id: string): Promise<Experiment | null> {
    const key = `${tenant}\n${id}`;
    const entry = this.entries.get(key);
    if (entry && performance.now() - entry.readAt < this.ttlMs) return Promise.resolve(entry.experiment);
    if (entry?.reading) return entry.reading;
    return this.read(tenant, id, key, entry);
  }

  /** The user's variant in a running (or any) experiment; 404 when it does not exist. */
  async assign(tenant: string, id: string, user: string): Promise<{ experiment: Experiment; assignment: Assignment }> {
    const experiment = await this.get(tenant, id);
    if (!experiment) throw new HttpError(404, 'not_found', `no experiment "${id}"`, 'experiment');
    return { experiment, assignment: await this.assignTo(tenant, experiment, user) };
  }

  /**
   * The user's variant in `experiment`: their customer's (the customer id is hashed, and a variant
   * the customer keeps wins). Who cannot be told right now (Redis away) is hashed by their own id,
   * as before ids were linked; the report counts each customer in one variant all the same.
   */
  async assignTo(tenant: string, experiment: Experiment, user: string): Promise<Assignment> {
    if (experiment.status !== 'running') return assign(experiment, user);
    const who = (await this.identity(tenant, experiment.id, user).catch(() => null)) ?? { user, variant: null };
    const member = !experiment.audience || (await this.member(tenant, experiment.audience, who.user));
    return assign(experiment, who.user, member, who.variant);
  }

  /**
   * Whether the user is in the audience now. Facts that cannot be read (Redis away) count as
   * not a member: the user gets the control and is not counted, like one outside the coverage.
   */
  async member(tenant: string, audience: Audience, user: string): Promise<boolean> {
    const facts = await this.facts(tenant, user).catch(() => null);
    return facts !== null && inAudience(facts, audience);
  }

  private read(tenant: string, id: string, key: string, stale: Entry | undefined): Promise<Experiment | null> {
    const reading = this.load(tenant, id).then(
      (experiment) => {
        this.set(key, { experiment, readAt: performance.now(), reading: null });
        return experiment;
      },
      (err: Error) => {
        if (!stale) {
          this.entries.delete(key);
          throw err;
        }
        // Try again at the next request, not at once: a down database is not asked in a loop.
        this.set(key, { ...stale, readAt: performance.now() - this.ttlMs / 2, reading: null });
        return stale.experiment;
      },
    );
    this.set(key, { experiment: stale?.experiment ?? null, readAt: stale?.readAt ?? -Infinity, reading });
    return reading;
  }

  private set(id: string, entry: Entry): void {
    this.entries.delete(id);
    this.entries.set(id, entry);
    if (this.entries.size > MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
  }
}
