// A followed link becomes a click event, with the attribution its token carries.
import type pg from 'pg';
import { erasedAmong, writeAsUsers } from './user-locks.ts';
import type { Click } from '../../email/click-token.ts';

/** Stores the click; false when the user was erased (their events are never stored again). */
export function recordClick(pool: pg.Pool, tenant: string, click: Click & { user: string }, at: Date): Promise<boolean> {
  return writeAsUsers(pool, tenant, [click.user], async (tx) => {
    if ((await erasedAmong(tx, tenant, [click.user])).size > 0) return false;
    await tx.query(
      `INSERT INTO events (tenant_id, user_id, item_id, type, quantity, occurred_at, request_id, position, variant, source)
       VALUES ($7, $1, $2, 'click', 1, $3, $4, $5, $6, 'redirect')`,
      [click.user, click.item, at, click.requestId, click.position, click.variant, tenant],
    );
    return true;
  });
}
