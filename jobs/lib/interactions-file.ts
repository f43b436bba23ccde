// Reader of the generic interactions file the evaluation and the fit bench take:
// one event per line, `user, item, weight-or-type, timestamp`, e.g. MovieLens'
// `user\titem\trating\tts` or `u1,sku9,purchase,1700000000`.
//   - delimiter: tab, `::`, comma, semicolon or pipe, guessed from the first line;
//   - header line optional: the first line is one when its 4th field is no timestamp;
//   - 3rd field: a number (weight / rating) or an event type (view|cart|purchase|click);
//   - 4th field: unix seconds (or milliseconds, or ISO 8601: see parseTimestamp);
//   - `.gz` files are decompressed; fields may be wrapped in double quotes.
// Extra columns are ignored. A malformed line stops the read with its line number.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { createGunzip } from 'node:zlib';
import { EVENT_TYPES, type EventType } from '../../src/config.ts';
import type { InteractionRecord } from '../../src/cf/interactions.ts';
import { parseTimestamp } from './timestamps.ts';

const DELIMITERS = ['\t', '::', ',', ';', '|'];

export async function* readInteractionsFile(path: string): AsyncGenerator<InteractionRecord> {
  let delimiter: string | undefined;
  let line = 0;
  for await (const raw of lines(path)) {
    line++;
    const text = line === 1 ? raw.replace(/^\uFEFF/, '') : raw;
    if (text.trim() === '') continue;
    delimiter ??= DELIMITERS.find((d) => text.includes(d)) ?? ',';
    const fields = text.split(delimiter).map(unquote);
    if (line === 1 && fields.length >= 4 && parseTimestamp(fields[3]) === null) continue;
    yield parseRecord(fields, line, path);
  }
}

function parseRecord(fields: string[], line: number, path: string): InteractionRecord {
  const fail = (reason: string) => new Error(`${path}:${line}: ${reason}`);
  if (fields.length < 4) throw fail(`expected user, item, weight or type, timestamp; got ${fields.length} field(s)`);
  const [user, item, strength, time] = fields;
  if (!user || !item) throw fail('empty user or item');
  const date = parseTimestamp(time);
  if (date === null) throw fail(`bad timestamp "${time}"`);
  const ts = date.getTime() / 1000;
  const weight = Number(strength);
  if (strength !== '' && Number.isFinite(weight)) return { user, item, weight, ts };
  if ((EVENT_TYPES as readonly string[]).includes(strength)) return { user, item, type: strength as EventType, ts };
  throw fail(`"${strength}" is neither a number nor an event type (${EVENT_TYPES.join('|')})`);
}

function lines(path: string): AsyncIterable<string> {
  const file = createReadStream(path, { highWaterMark: 1 << 20 });
  return createInterface({ input: path.endsWith('.gz') ? file.pipe(createGunzip()) : file, crlfDelay: Infinity });
}

function unquote(field: string): string {
  const f = field.trim();
  return f.length >= 2 && f.startsWith('"') && f.endsWith('"') ? f.slice(1, -1).replace(/""/g, '"') : f;
}
