import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_EVENT_WEIGHTS } from '../../src/config.ts';
import { collectInteractions } from '../../src/cf/interactions.ts';
import { readInteractionsFile } from '../../jobs/lib/interactions-file.ts';

const fixture = (name: string) => new URL(`../fixtures/eval/${name}`, import.meta.url).pathname;

async function read(name: string) {
  const out = [];
  for await (const r of readInteractionsFile(fixture(name))) out.push(r);
  return out;
}

test('CSV with a header line and ratings (MovieLens ratings.csv)', async () => {
  assert.deepEqual(await read('ratings.csv'), [
    { user: '1', item: '10', weight: 4.5, ts: 964982703 },
    { user: '1', item: '20', weight: 3, ts: 964981247 },
    { user: '2', item: '10', weight: 5, ts: 964982224 },
  ]);
});

test('TSV without header (MovieLens u.data), plain and gzipped; "::" (ratings.dat)', async () => {
  const expected = [
    { user: '1', item: '10', weight: 4, ts: 881250949 },
    { user: '2', item: '20', weight: 3, ts: 891717742 },
  ];
  assert.deepEqual(await read('ratings-noheader.tsv'), expected);
  assert.deepEqual(await read('ratings-noheader.tsv.gz'), expected);
  assert.deepEqual(await read('ratings.dat'), [
    { user: 'u1', item: 'a', weight: 5, ts: 978300760 },
    { user: 'u2', item: 'b', weight: 3, ts: 978302109 },
  ]);
});

test('event types map through the event weights; quotes and ISO times are accepted', async () => {
  const records = await read('events.csv');
  assert.deepEqual(records, [
    { user: 'u1', item: 'sku-1', type: 'view', ts: 1700000000 },
    { user: 'u1', item: 'sku-2', type: 'purchase', ts: 1700000000 },
    { user: 'u2', item: 'sku-1', type: 'click', ts: 1700000100 },
  ]);
  const x = await collectInteractions(records, DEFAULT_EVENT_WEIGHTS);
  assert.deepEqual([...x.weights], [0.25, 1]); // the click (weight 0) is left out
});

test('a malformed line fails with its line number', async () => {
  await assert.rejects(read('bad-type.csv'), /bad-type\.csv:1: "like" is neither a number nor an event type/);
});
