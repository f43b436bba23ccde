import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateApiKey } from '../../src/auth/api-key.ts';
import { KeyRing, type ActiveKey } from '../../src/auth/key-ring.ts';

function activeKey(): { key: string; active: ActiveKey } {
  const { key, prefix, hash } = generateApiKey();
  return { key, active: { prefix, hash, name: prefix, tenants: ['default'], scope: 'read', origins: [], rate: null } };
}

/** A loader over a list the test changes, counting its calls. */
function source(initial: ActiveKey[]) {
  const s = { keys: initial, calls: 0, fail: false as boolean };
  const load = async () => {
    s.calls++;
    if (s.fail) throw new Error('database away');
    return s.keys;
  };
  return { s, load };
}

describe('KeyRing (in-process cache of the active keys)', () => {
  test('finds a key by its prefix and hash; wrong secret or garbage: null', async () => {
    const a = activeKey();
    const { load } = source([a.active]);
    const ring = new KeyRing(load, 60_000, () => undefined);
    assert.equal((await ring.find(a.key))?.prefix, a.active.prefix);
    assert.equal(await ring.find(a.key.replace(/.$/, (c) => (c === 'A' ? 'B' : 'A'))), null);
    assert.equal(await ring.find('not-a-key'), null);
  });

  test('reads once per TTL, one read shared by concurrent callers', async () => {
    const { s, load } = source([]);
    const ring = new KeyRing(load, 60_000, () => undefined);
    await Promise.all([ring.active(), ring.active(), ring.active()]);
    await ring.active();
    assert.equal(s.calls, 1);
  });

  test('a revoked key keeps working until the TTL, then stops', async () => {
    const a = activeKey();
    const { s, load } = source([a.active]);
    const ring = new KeyRing(load, 50, () => undefined);
    assert.ok(await ring.find(a.key));
    s.keys = [];
    assert.ok(await ring.find(a.key), 'cached');
    await sleep(60);
    assert.equal(await ring.find(a.key), null);
  });

  test('an unknown prefix re-reads at once (a new key works), but at most once a second', async () => {
    const { s, load } = source([]);
    const ring = new KeyRing(load, 60_000, () => undefined);
    await ring.active();
    const b = activeKey();
    s.keys = [b.active];
    assert.equal(await ring.find(b.key), null, 'read under a second ago: no re-read');
    assert.equal(s.calls, 1);
    await sleep(1010);
    assert.equal((await ring.find(b.key))?.prefix, b.active.prefix);
    assert.equal(s.calls, 2);
  });

  test('when the database fails: the last keys are kept (and reported); never read: fail closed', async () => {
    const a = activeKey();
    const { s, load } = source([a.active]);
    const stale: Error[] = [];
    const ring = new KeyRing(load, 0, (err) => stale.push(err));
    assert.ok(await ring.find(a.key));
    s.fail = true;
    assert.ok(await ring.find(a.key));
    assert.equal(stale[0]?.message, 'database away');

    const fresh = new KeyRing(load, 0, () => undefined);
    await assert.rejects(fresh.find(a.key), /database away/);
  });
});
