import { StringDecoder } from 'node:string_decoder';
import type { PoolClient } from 'pg';
import { to as copyTo } from 'pg-copy-streams';

const ESCAPES: Record<string, string> = { '\\': '\\', t: '\t', n: '\n', r: '\r', b: '\b', f: '\f', v: '\v' };

/** Undoes COPY text-format escaping of one field ("\N" is NULL). */
export function unescapeCopyField(field: string): string | null {
  if (field === '\\N') return null;
  if (!field.includes('\\')) return field;
  return field.replace(/\\(.)/g, (_, c: string) => ESCAPES[c] ?? c);
}

/** A string as an SQL literal (standard-conforming strings: only the quote is doubled). */
function sqlLiteral(value: string): string {
  if (value.includes('\0')) throw new Error('an SQL literal cannot hold NUL');
  return `'${value.replaceAll("'", "''")}'`;
}

/**
 * Streams the rows of `COPY (query) TO STDOUT` as arrays of fields, without holding the whole
 * result in memory: the fastest way to read millions of events out of PostgreSQL. COPY takes no
 * bind parameters: `$1`.. in the query are replaced by `params` as quoted literals.
 */
export async function* copyOut(client: PoolClient, query: string, params: readonly string[] = []): AsyncIterable<(string | null)[]> {
  const sql = query.replace(/\$(\d+)/g, (_, n: string) => sqlLiteral(params[Number(n) - 1]));
  const stream = client.query(copyTo(`COPY (${sql}) TO STDOUT`));
  // A chunk can end inside a multi-byte character: the decoder carries it over.
  const decoder = new StringDecoder('utf8');
  let rest = '';
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const text = rest + decoder.write(chunk);
    const lines = text.split('\n');
    rest = lines.pop()!;
    for (const line of lines) yield line.split('\t').map(unescapeCopyField);
  }
  rest += decoder.end();
  if (rest) yield rest.split('\t').map(unescapeCopyField);
}
