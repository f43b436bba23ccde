import pg from 'pg';

// numeric and bigint come back as strings by default; our values fit in a double.
pg.types.setTypeParser(pg.types.builtins.NUMERIC, (v) => Number(v));
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

/** Bounds on waiting for PostgreSQL: the API's pool has them (so a request fails fast), jobs' have none. */
export interface PoolTimeouts {
  connectMs: number;
  /** The server's statement_timeout; a second later the client gives up too (a server that stopped answering). */
  statementMs?: number;
}

export function createPool(databaseUrl: string, max = 10, timeouts: PoolTimeouts = { connectMs: 5000 }): pg.Pool {
  const pool = new pg.Pool({
    connectionString: databaseUrl,
    max,
    connectionTimeoutMillis: timeouts.connectMs,
    statement_timeout: timeouts.statementMs,
    query_timeout: timeouts.statementMs && timeouts.statementMs + 1000,
  });
  // An idle client losing its connection (server restart) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/**
 * Runs `work` in a transaction on a client of its own: COMMIT when it returns, ROLLBACK when it
 * throws (the client goes back to the pool either way). `begin` opens it: isolation, SET LOCAL...
 */
export async function transaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>, begin = 'BEGIN'): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await work(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
