// Shared output of the benchmarks: an aligned table on stdout and a JSON file under results/.
import { mkdir, writeFile } from 'node:fs/promises';

export function printTable(header: string[], rows: (string | number)[][]): void {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? c.toLocaleString('en-US') : c)))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)));
  const line = (r: (string | number)[]) => `| ${r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w, i) => (i === 0 ? ` ${'-'.repeat(w)} ` : ` ${'-'.repeat(w - 1)}: `)).join('|')}|`);
  for (const r of cells.slice(1)) console.log(line(r));
}

export async function writeResults(name: string, data: unknown): Promise<string> {
  const dir = new URL('../results/', import.meta.url).pathname;
  await mkdir(dir, { recursive: true });
  const path = `${dir}${name}.json`;
  await writeFile(path, JSON.stringify({ measured_at: new Date().toISOString(), ...(data as object) }, null, 2));
  console.log(`wrote ${path}`);
  return path;
}
