import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { StringDecoder } from 'node:string_decoder';
import { parse } from 'csv-parse/sync';
import { hash53 } from './duplicate-rows.ts';

export interface CsvRow {
  /** 1-based line number in the file (the header is line 1); a record over several lines has its last. */
  line: number;
  fields: string[];
  /** Why the line is no row at all (broken quoting, invalid UTF-8, binary data); `fields` is then empty. */
  unreadable?: string;
  /** The record's text (without its line end), when the parser read one. */
  text?: string;
}

export type TextEncoding = 'utf8' | 'latin1';

/** What reading the file found out, complete once its rows have been read. */
export interface CsvStats {
  /** Lines that are not valid UTF-8 (when read as UTF-8): how many, and the first line numbers. */
  invalidUtf8: { lines: number; sample: number[] };
}

export interface CsvFile {
  header: string[];
  rows: AsyncIterable<CsvRow>;
  /** Bytes of the file (compressed, for .gz) read so far, against `sizeBytes`: drives progress bars. */
  bytesRead(): number;
  sizeBytes: number;
  stats: CsvStats;
  /**
   * Set it to be told of each data row that has a text, with a 53-bit hash of that text, just
   * before the row comes out of `rows`: how the import counts repeated rows (jobs/lib/loader.ts).
   */
  onRow?: (line: number, textHash: number) => void;
}

const SAMPLE_SIZE = 20;

/** Guesses the delimiter from the header line: tab, semicolon or comma. */
export function detectDelimiter(headerLine: string): string {
  const counts = [',', '\t', ';'].map((d) => [d, headerLine.split(d).length] as const);
  return counts.sort((a, b) => b[1] - a[1])[0][0];
}

async function firstLine(path: string, encoding: TextEncoding): Promise<string> {
  const source = createReadStream(path);
  const stream = path.endsWith('.gz') ? source.pipe(createGunzip()) : source;
  let text = '';
  for await (const chunk of stream) {
    text += chunk.toString(encoding);
    const end = text.indexOf('\n');
    if (end >= 0) {
      text = text.slice(0, end);
      break;
    }
    if (text.length > 1 << 20) break;
  }
  source.destroy();
  return text.replace(/\r$/, '').replace(/^\uFEFF/, '');
}

// Blocks of whole lines handed to the parser. A block ends after a line where the quotes seen so
// far pair up, so a quoted field over several lines stays in one block; a stray quote leaves them
// unpaired, and the block is then cut at a line end once it reaches MAX_BLOCK anyway.
const BLOCK = 1 << 20;
const MAX_BLOCK = 8 << 20;

/** The decoded text of `stream` in blocks of whole lines (the last may lack its line end). */
async function* textBlocks(stream: AsyncIterable<Buffer>, encoding: TextEncoding): AsyncIterable<string> {
  const decoder = new StringDecoder(encoding);
  let text = '';
  // Quotes in text[0, scanned): their parity, and the last line end after which they paired up.
  let scanned = 0;
  let odd = false;
  let cut = -1;
  for await (const chunk of stream) {
    text += decoder.write(chunk);
    if (text.length < BLOCK) continue;
    for (let i = scanned; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c === 34) odd = !odd;
      else if (c === 10 && !odd) cut = i;
    }
    scanned = text.length;
    if (cut < 0 && text.length >= MAX_BLOCK) {
      cut = text.lastIndexOf('\n');
      odd = false;
    }
    if (cut < 0) continue;
    yield text.slice(0, cut + 1);
    text = text.slice(cut + 1);
    scanned = 0;
    odd = false;
    cut = -1;
  }
  text += decoder.end();
  if (text) yield text;
}

/**
 * Streams a CSV/TSV file (optionally gzipped) row by row. Rows keep their line numbers; rows with
 * the wrong number of fields and lines that are no row at all still come through (`unreadable`),
 * so the caller can report each. A stray quote opens a quoted field that swallows the lines after
 * it: a record over several lines that cannot be right (the wrong width, or a quote that never
 * closes) is read again line by line, so only the line with the stray quote is lost.
 * UTF-8 by default: a line that is not valid UTF-8 is unreadable rather than silently mangled
 * (its ids would not match the ones the events API receives); a Latin-1 file is read as such.
 * A block of lines without any quote is split by hand (several times faster than the CSV parser,
 * which reads every other block): tens of millions of plain lines are the common export.
 */
export async function openCsv(path: string, options: { delimiter?: string; encoding?: TextEncoding } = {}): Promise<CsvFile> {
  const { size } = await stat(path);
  const encoding = options.encoding ?? 'utf8';
  const headerLine = await firstLine(path, encoding);
  const sep = options.delimiter ?? detectDelimiter(headerLine);
  const stats: CsvStats = { invalidUtf8: { lines: 0, sample: [] } };
  let bytes = 0;
  const source = createReadStream(path, { highWaterMark: 1 << 20 });
  source.on('data', (chunk) => {
    bytes += chunk.length;
  });
  const decoded: AsyncIterable<Buffer> = path.endsWith('.gz') ? source.pipe(createGunzip()) : source;

  function checked(line: number, text: string, fields: string[]): CsvRow {
    // Invalid UTF-8 was decoded as U+FFFD: the original bytes are gone, and so is the row.
    if (encoding === 'utf8' && text.includes('\uFFFD')) {
      if (stats.invalidUtf8.lines++ < SAMPLE_SIZE) stats.invalidUtf8.sample.push(line);
      return { line, fields: [], unreadable: 'not valid UTF-8 (a Latin-1 file? import it with --encoding latin1)', text };
    }
    if (text.includes('\0')) return { line, fields: [], unreadable: 'binary data (a NUL byte)', text };
    return { line, fields, text };
  }

  function readLine(text: string, line: number): CsvRow {
    let fields: string[];
    try {
      fields = (parse(text, { delimiter: sep, relax_quotes: true, relax_column_count: true }) as string[][])[0] ?? [];
    } catch (err) {
      const reason = (err as { code?: string }).code === 'CSV_QUOTE_NOT_CLOSED' ? 'a quote that never closes (a stray quote?)' : (err as Error).message;
      return { line, fields: [], unreadable: `unreadable CSV: ${reason}` };
    }
    return checked(line, text, fields);
  }

  /** The lines of a record that ends on `lastLine`, each read on its own. */
  function reread(raw: string, lastLine: number): CsvRow[] {
    const lines = withoutNewline(raw).split(/\r?\n/);
    const first = lastLine - lines.length + 1;
    return lines.flatMap((text, i) => (text.trim() === '' ? [] : [readLine(text, first + i)]));
  }

  const header: string[] = [];

  /** A block without quotes: one record per non-empty line. `before` = lines before the block. */
  function* plainBlock(block: string, before: number): Iterable<CsvRow> {
    let start = 0;
    for (let line = before + 1; start < block.length; line++) {
      let end = block.indexOf('\n', start);
      if (end < 0) end = block.length;
      const text = block.charCodeAt(end - 1) === 13 ? block.slice(start, end - 1) : block.slice(start, end);
      start = end + 1;
      if (text === '') continue;
      if (header.length === 0) header.push(...text.split(sep).map((h) => h.trim()));
      else yield checked(line, text, text.split(sep));
    }
  }

  /** A block with quotes, through the CSV parser; the lines it gave up on come in line order among the records. */
  function* quotedBlock(block: string, before: number): Iterable<CsvRow> {
    const skipped: CsvRow[] = [];
    const records = parse(block, {
      delimiter: sep,
      relax_column_count: true,
      relax_quotes: true,
      skip_empty_lines: true,
      skip_records_with_error: true,
      info: true,
      raw: true,
      on_skip: (err) => {
        if (!err) return undefined;
        const { raw, lines = 0 } = err as { raw?: string; lines?: number };
        if (raw !== undefined && spansLines(raw)) skipped.push(...reread(raw, before + lines));
        else skipped.push({ line: before + lines, fields: [], unreadable: `unreadable CSV: ${err.message}` });
        return undefined;
      },
    }) as unknown as { record: string[]; info: { lines: number }; raw: string }[];
    let s = 0;
    for (const { record, info, raw } of records) {
      const line = before + info.lines;
      while (s < skipped.length && skipped[s].line < line) yield skipped[s++];
      if (header.length === 0) {
        header.push(...record.map((h) => h.trim()));
        continue;
      }
      if (record.length !== header.length && spansLines(raw)) yield* reread(raw, line);
      else yield checked(line, withoutNewline(raw), record);
    }
    while (s < skipped.length) yield skipped[s++];
  }

  async function* rows(): AsyncIterable<CsvRow> {
    let before = 0;
    for await (let block of textBlocks(decoded, encoding)) {
      if (before === 0) block = block.replace(/^\uFEFF/, '');
      yield* block.includes('"') ? quotedBlock(block, before) : plainBlock(block, before);
      before += lineEnds(block);
    }
  }
  const iterator = rows()[Symbol.asyncIterator]();
  // Pull the header now so callers can map column names before iterating.
  const first = await iterator.next();
  const pending = first.done ? [] : [first.value];
  // Told here, as each row leaves, not when it was parsed: the caller sets onRow after the
  // header (and maybe the first row) was read.
  const told = (row: CsvRow): CsvRow => {
    if (file.onRow && row.text !== undefined) file.onRow(row.line, hash53(row.text));
    return row;
  };
  const file: CsvFile = {
    header,
    sizeBytes: size,
    bytesRead: () => bytes,
    stats,
    rows: {
      async *[Symbol.asyncIterator]() {
        for (const row of pending) yield told(row);
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield told(next.value);
      },
    },
  };
  return file;
}

function lineEnds(text: string): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

function withoutNewline(raw: string): string {
  return raw.replace(/\r?\n$/, '');
}

function spansLines(raw: string): boolean {
  return withoutNewline(raw).includes('\n');
}

/** Index of each wanted column in the header (case-insensitive), or -1. */
export function columnIndex(header: string[], ...names: string[]): number {
  const lower = header.map((h) => h.toLowerCase());
  for (const name of names) {
    const i = lower.indexOf(name.toLowerCase());
    if (i >= 0) return i;
  }
  return -1;
}
