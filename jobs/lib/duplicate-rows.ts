// Tells records identical to an earlier one of a file. Each distinct record is kept as a 53-bit
// hash of its text, not the text: a number per record (about 20 MB per million), and at these
// sizes a collision (two different records counted as one) is a one-in-millions event, harmless
// for a count that is only reported.

export class SeenRows {
  private readonly seen = new Set<number>();

  /** Records the row; true when the same text came before. */
  repeats(text: string): boolean {
    const hash = hash53(text);
    if (this.seen.has(hash)) return true;
    this.seen.add(hash);
    return false;
  }
}

/** cyrb53 (public domain): two multiplicative 32-bit hashes mixed into 53 bits. */
function hash53(text: string): number {
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
