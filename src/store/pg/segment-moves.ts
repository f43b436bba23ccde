// The segment moves the lifecycle builds recorded (lifecycle_segment_changes), for journeys that
// trigger on a move: read in (version, user) order, a page after a given (version, user). Only
// customers with a current profile who have not opted out: an erased user's moves are deleted
// with them, an opted-out one's are not given out.
import type { Segment } from '../../lifecycle/rfm.ts';
import type { Db } from './experiments.ts';
import { NOT_OPTED_OUT } from './lifecycle.ts';

export interface SegmentMove {
  user_id: string;
  version: number;
  /** null: the customer's first profile. */
  from_segment: Segment | null;
  to_segment: Segment;
  changed_at: Date;
}

export interface MovesQuery {
  /** Moves recorded at or after this time. */
  since?: Date;
  from?: Segment;
  to?: Segment;
  /** The last move of the previous page. */
  after?: { version: number; user: string };
  limit: number;
}

export async function segmentMoves(db: Db, tenant: string, q: MovesQuery): Promise<SegmentMove[]> {
  const params: unknown[] = [tenant, q.limit];
  const where = ['m.tenant_id = $1', NOT_OPTED_OUT];
  const param = (value: unknown) => `$${params.push(value)}`;
  if (q.since !== undefined) where.push(`m.changed_at >= ${param(q.since)}`);
  if (q.from !== undefined) where.push(`m.from_segment = ${param(q.from)}`);
  if (q.to !== undefined) where.push(`m.to_segment = ${param(q.to)}`);
  if (q.after !== undefined) where.push(`(m.version, m.user_id) > (${param(q.after.version)}, ${param(q.after.user)})`);
  const { rows } = await db.query<SegmentMove>(
    `SELECT m.user_id, m.version::int AS version, m.from_segment, m.to_segment, m.changed_at
     FROM lifecycle_segment_changes m JOIN lifecycle_profiles p ON p.tenant_id = m.tenant_id AND p.user_id = m.user_id
     WHERE ${where.join(' AND ')} ORDER BY m.version, m.user_id LIMIT $2`,
    params,
  );
  return rows;
}
