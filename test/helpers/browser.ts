// What the browser tests (test/browser) share: Debian's Chromium, loopback ports, and waiting
// for a condition without a fixed sleep.
import { execFileSync } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

// What this machine's Chromium needs (no sandbox as root, no network beyond loopback).
export const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
// Generous: a slow 2-core VM runs other test files meanwhile.
export const PATIENCE_MS = 30_000;

/** Waits for a condition, checking every 50 ms: never a fixed sleep. */
export async function until<T>(probe: () => Promise<T> | T, what: string, timeoutMs = PATIENCE_MS): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export async function listen(server: Server, port = 0): Promise<string> {
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

export async function freePort(): Promise<number> {
  const probe = createServer();
  const url = await listen(probe);
  await new Promise((resolve) => probe.close(resolve));
  return Number(new URL(url).port);
}

/** Debian's Chromium, installed by scripts/browser.sh when missing (as root, like PostgreSQL and Redis). */
export function chromiumPath(): string {
  const script = new URL('../../scripts/browser.sh', import.meta.url).pathname;
  return execFileSync('bash', [script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}
