/**
 * A one-line progress bar on stderr: done/total, records per second and ETA.
 * Redraws at most 10 times a second; on a non-TTY (CI logs) prints a line every few seconds.
 */
export class Progress {
  private readonly started = performance.now();
  private lastDraw = performance.now();
  private readonly tty = Boolean(process.stderr.isTTY);

  constructor(
    private readonly label: string,
    private total = 0,
    private readonly unit = 'records',
  ) {}

  setTotal(total: number): void {
    this.total = total;
  }

  /** `done` is in the unit of `total` (bytes, items...); `records` is what the rate counts. */
  update(done: number, records = done): void {
    const now = performance.now();
    if (now - this.lastDraw < (this.tty ? 100 : 5000)) return;
    this.lastDraw = now;
    this.draw(done, records, now);
  }

  finish(records: number, extra = ''): void {
    const seconds = (performance.now() - this.started) / 1000;
    const rate = records / Math.max(seconds, 1e-9);
    this.write(`${this.label}: ${fmt(records)} ${this.unit} in ${seconds.toFixed(2)} s (${fmt(rate)}/s)${extra ? `, ${extra}` : ''}`, true);
  }

  elapsedSeconds(): number {
    return (performance.now() - this.started) / 1000;
  }

  private draw(done: number, records: number, now: number): void {
    const seconds = (now - this.started) / 1000;
    const rate = records / Math.max(seconds, 1e-9);
    const fraction = this.total > 0 ? Math.min(done / this.total, 1) : 0;
    const width = 24;
    const filled = Math.round(fraction * width);
    const bar = this.total > 0 ? `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ` : '';
    const eta = fraction > 0 && fraction < 1 ? ` ETA ${(seconds / fraction - seconds).toFixed(0)} s` : '';
    this.write(`${this.label} ${bar}${fmt(records)} ${this.unit}, ${fmt(rate)}/s${eta}`, false);
  }

  private write(line: string, final: boolean): void {
    if (this.tty) process.stderr.write(`\r\x1b[2K${line}${final ? '\n' : ''}`);
    else process.stderr.write(`${line}\n`);
  }
}

export function fmt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
