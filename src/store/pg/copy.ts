import type { PoolClient } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

/** One field in PostgreSQL's COPY text format (NULL as \N, control characters escaped). */
export function copyField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '\\N';
  if (typeof value !== 'string') return String(value);
  return value.replace(/[\\\t\n\r]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : '\\r'));
}

/**
 * Streams rows into `COPY table (columns) FROM STDIN`, in ~256 KiB chunks and honouring
 * back-pressure, so memory stays flat however large the input is. Returns the row count.
 */
export async function copyRows(client: PoolClient, table: string, columns: string[], rows: AsyncIterable<unknown[]> | Iterable<unknown[]>): Promise<number> {
  const stream = client.query(copyFrom(`COPY ${table} (${columns.join(', ')}) FROM STDIN`));
  const done = new Promise<void>((resolve, reject) => {
    stream.on('finish', resolve);
    stream.on('error', reject);
  });
  let buffer = '';
  let count = 0;
  const flush = async () => {
    if (!stream.write(buffer)) await new Promise((resolve) => stream.once('drain', resolve));
    buffer = '';
  };
  try {
    for await (const row of rows) {
      buffer += (row as (string | number | boolean | null)[]).map(copyField).join('\t') + '\n';
      count++;
      if (buffer.length >= 1 << 18) await flush();
    }
    if (buffer) await flush();
  } catch (err) {
    stream.destroy(err as Error);
    await done.catch(() => undefined);
    throw err;
  }
  stream.end();
  await done;
  return count;
}
