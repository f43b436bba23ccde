// A followed link becomes a click event, with the attribution its token carries.
import type { Db } from '../store/experiments.ts';
import type { Click } from './click-token.ts';

/** Stores the click; false when the user was erased (their events are never stored again). */
export async function recordClick(db: Db, click: Click & { user: string }, at: Date): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO events (user_id, item_id, type, quantity, occurred_at, request_id, position, variant, source)
     SELECT $1, $2, 'click', 1, $3, $4, $5, $6, 'redirect'
     WHERE NOT EXISTS (SELECT 1 FROM users WHERE id = $1 AND deleted_at IS NOT NULL)`,
    [click.user, click.item, at, click.requestId, click.position, click.variant],
  );
  return rowCount === 1;
}
