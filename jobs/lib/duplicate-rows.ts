// Repeated rows of an import are counted by PostgreSQL, not in memory: each row's text is
// reduced to a 53-bit hash that travels to the staging table with the row (jobs/lib/loader.ts),
// and the count is one GROUP BY there, so memory stays flat however long the file. At these
// sizes a collision (two different records counted as one) is a one-in-millions event, harmless
// for a count that is only reported.

/** cyrb53 (public domain): two multiplicative 32-bit hashes mixed into 53 bits. */
export function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}
