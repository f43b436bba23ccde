import assert from 'node:assert/strict';
import { test } from 'node:test';
import { keyPart, redisKeys } from '../../src/store/redis/keys.ts';

const keys = redisKeys('recs:');
/** What Redis Cluster hashes: the part between the first `{` and the next `}`, when not empty. */
const hashTag = (key: string) => /\{([^}]+)\}/.exec(key)?.[1] ?? key;

test('ids with `{`, `}`, `:` or `%` cannot make two (user, mail) pairs share a key', () => {
  assert.notEqual(keys.mail('a}:m', 'x'), keys.mail('a', 'm}:x'));
  assert.notEqual(keys.mail('a:b', 'c'), keys.mail('a', 'b:c'));
  assert.notEqual(keys.recentlyViewed('a%7D'), keys.recentlyViewed('a}'));
  const users = ['a', 'a}', 'a}:m', '{a}', 'a:b', '%', '%25', 'x{y', 'ü:}'];
  const mails = ['x', 'm}:x', ':', '%3A', '{}'];
  const seen = new Map<string, string>();
  for (const user of users) {
    for (const mail of mails) {
      const key = keys.mail(user, mail);
      assert.equal(seen.get(key), undefined, `${JSON.stringify([user, mail])} and ${seen.get(key)} share ${key}`);
      seen.set(key, JSON.stringify([user, mail]));
    }
  }
});

test("every key of a user, whatever the id, has one hash tag: the user's (one Redis Cluster slot)", () => {
  for (const user of ['plain', 'a}:m', '{x}', 'a{b}c', 'é}']) {
    const tags = new Set([...keys.userKeys(user), keys.erased(user), keys.mail(user, 'm}1'), keys.deferredExposure(user, 'r}:1')].map(hashTag));
    assert.equal(tags.size, 1, `${user}: ${[...tags]}`);
    // Named by that tag when a key changes (the kept results of src/store/redis/rec-store.ts), in every tenant.
    assert.deepEqual([...tags], [keys.userTag(user)]);
    assert.equal(hashTag(redisKeys('recs:', 'shop').optOut(user)), redisKeys('recs:', 'shop').userTag(user));
  }
});

test('plain ids stay readable in keys; encoded ones always hold a %', () => {
  assert.equal(keyPart('customer-42'), 'customer-42');
  assert.equal(keyPart('a}b'), 'a%7Db');
  assert.equal(keyPart('50%'), '50%25');
  assert.equal(keys.recentlyViewed('u1'), 'recs:rv:{u1}');
});
