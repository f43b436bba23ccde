import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { parse } from 'csv-parse';

export interface CsvRow {
  /** 1-based line number in the file (the header is line 1). */
  line: number;
  fields: string[];
}

export interface CsvProblem {
  line: number;
  reason: string;
}

export interface CsvFile {
  header: string[];
  rows: AsyncIterable<CsvRow>;
  /** Bytes of the file (compressed, for .gz) read so far, against `sizeBytes`: drives progress bars. */
  bytesRead(): number;
  sizeBytes: number;
  /** Lines the parser could not read at all (broken quoting...), with their line numbers. */
  problems: CsvProblem[];
}

/** Guesses the delimiter from the header line: tab, semicolon or comma. */
export function detectDelimiter(headerLine: string): string {
  const counts = [',', '\t', ';'].map((d) => [d, headerLine.split(d).length] as const);
  return counts.sort((a, b) => b[1] - a[1])[0][0];
}

async function firstLine(path: string): Promise<string> {
  const source = createReadStream(path);
  const stream = path.endsWith('.gz') ? source.pipe(createGunzip()) : source;
  let text = '';
  for await (const chunk of stream) {
    text += chunk.toString('utf8');
    const end = text.indexOf('\n');
    if (end >= 0) { text = text.slice(0, end); break; }
    if (text.length > 1 << 20) break;
  }
  source.destroy();
  return text.replace(/\r$/, '').replace(/^\uFEFF/, '');
}

/**
 * Streams a CSV/TSV file (optionally gzipped) row by row. Rows keep their line numbers and
 * rows with the wrong number of fields still come through, so the caller can report them.
 */
export async function openCsv(path: string, delimiter?: string): Promise<CsvFile> {
  const { size } = await stat(path);
  const headerLine = await firstLine(path);
  const sep = delimiter ?? detectDelimiter(headerLine);
  const problems: CsvProblem[] = [];
  let bytes = 0;
  const source = createReadStream(path, { highWaterMark: 1 << 20 });
  source.on('data', (chunk) => { bytes += chunk.length; });
  const decoded = path.endsWith('.gz') ? source.pipe(createGunzip()) : source;
  const parser = decoded.pipe(parse({
    delimiter: sep,
    bom: true,
    relax_column_count: true,
    relax_quotes: true,
    skip_empty_lines: true,
    skip_records_with_error: true,
    info: true,
    on_skip: (err) => {
      if (err) problems.push({ line: (err as { lines?: number }).lines ?? 0, reason: `unreadable CSV: ${err.message}` });
      return undefined;
    },
  }));
  const header: string[] = [];
  async function* rows(): AsyncIterable<CsvRow> {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (header.length === 0) { header.push(...record.map((h) => h.trim())); continue; }
      yield { line: info.lines, fields: record };
    }
  }
  const iterator = rows()[Symbol.asyncIterator]();
  // Pull the header now so callers can map column names before iterating.
  const first = await iterator.next();
  const pending = first.done ? [] : [first.value];
  return {
    header,
    sizeBytes: size,
    bytesRead: () => bytes,
    problems,
    rows: {
      async *[Symbol.asyncIterator]() {
        yield* pending;
        for (let next = await iterator.next(); !next.done; next = await iterator.next()) yield next.value;
      },
    },
  };
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
