import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keptWith } from '../../src/lib/kept-with.ts';

test('a value is made once per owner and key; another key makes (and keeps) it anew; owners do not share', () => {
  let made = 0;
  const kept = keptWith<object, string, string>();
  const make = (v: string) => () => `${v}#${++made}`;
  const a = {};
  const b = {};
  assert.equal(kept(a, 'x', make('a')), 'a#1');
  assert.equal(kept(a, 'x', make('a')), 'a#1');
  assert.equal(kept(b, 'x', make('b')), 'b#2');
  assert.equal(kept(a, 'y', make('a')), 'a#3');
  // One key at a time: the first key's value was replaced.
  assert.equal(kept(a, 'x', make('a')), 'a#4');
});

test('keys are compared by the given equality', () => {
  const kept = keptWith<object, [string, number], number>((p, q) => p[0] === q[0] && p[1] === q[1]);
  const owner = {};
  assert.equal(
    kept(owner, ['f', 1], () => 1),
    1,
  );
  assert.equal(
    kept(owner, ['f', 1], () => 2),
    1,
  );
  assert.equal(
    kept(owner, ['f', 2], () => 3),
    3,
  );
});
