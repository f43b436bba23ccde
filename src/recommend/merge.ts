import type { Candidate, RankedList } from './types.ts';

/**
 * Lazily merges ranked lists (each best first) into one: higher score first, equal scores →
 * smaller id. Each candidate carries the `because` of its list. Lazy, because a block
 * usually needs the first few entries of lists hundreds long.
 */
export function* mergeRanked(lists: readonly RankedList[], because: readonly (string | undefined)[] = [], skip?: ReadonlySet<string>): Generator<Candidate> {
  const at = new Array<number>(lists.length).fill(0);
  for (;;) {
    let best = -1;
    for (let l = 0; l < lists.length; l++) {
      if (at[l] >= lists[l].ids.length) continue;
      if (best < 0 || ahead(lists[l], at[l], lists[best], at[best])) best = l;
    }
    if (best < 0) return;
    const i = at[best]++;
    const id = lists[best].ids[i];
    if (skip?.has(id)) continue;
    yield because[best] === undefined ? { id, score: lists[best].scores[i] } : { id, score: lists[best].scores[i], because: because[best] };
  }
}

function ahead(a: RankedList, i: number, b: RankedList, j: number): boolean {
  return a.scores[i] > b.scores[j] || (a.scores[i] === b.scores[j] && a.ids[i] < b.ids[j]);
}
