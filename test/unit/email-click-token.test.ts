import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodeClickToken, encodeClickToken, encodeClickTokens, linkExpiry, type Click } from '../../src/email/click-token.ts';
import { signEmailUrl, verifyEmailUrl } from '../../src/email/signed-url.ts';

const SECRET = 'test-secret-0123456789abcdef-0123456789';
const EXP = 1767225600; // 2026-01-01T00:00:00Z
const BEFORE = (EXP - 60) * 1000;
const CLICK: Click = { tenant: 'shop', requestId: 'em-abc', user: 'u.1', item: 'sku "9"', position: 3, variant: 'cf', target: 'https://shop.example/p/sku%209' };

describe('click tokens', () => {
  test('round trip: what was sealed comes back', () => {
    const token = encodeClickToken(CLICK, SECRET, EXP);
    assert.match(token, /^[A-Za-z0-9_-]+$/, 'URL-safe as it is');
    assert.deepEqual(decodeClickToken(token, SECRET, BEFORE), { ok: true, click: CLICK });
    assert.deepEqual(decodeClickToken(encodeClickToken({ ...CLICK, user: null, variant: null }, SECRET, EXP), SECRET, BEFORE), { ok: true, click: { ...CLICK, user: null, variant: null } });
  });

  test('opaque: a forwarded email does not show the customer id or the target', () => {
    const token = encodeClickToken({ ...CLICK, user: 'customer-4711@example.com' }, SECRET, EXP);
    const decoded = Buffer.from(token, 'base64url').toString('latin1');
    for (const secret of ['customer-4711', 'shop.example', 'em-abc', 'sku']) assert.ok(!decoded.includes(secret), secret);
  });

  test('deterministic (an email block stays byte-identical), and another link gets another nonce', () => {
    assert.equal(encodeClickToken(CLICK, SECRET, EXP), encodeClickToken(CLICK, SECRET, EXP));
    const nonce = (t: string) => Buffer.from(t, 'base64url').subarray(1, 13).toString('hex');
    assert.notEqual(nonce(encodeClickToken(CLICK, SECRET, EXP)), nonce(encodeClickToken({ ...CLICK, position: 4 }, SECRET, EXP)));
    assert.notEqual(nonce(encodeClickToken(CLICK, SECRET, EXP)), nonce(encodeClickToken(CLICK, SECRET, EXP + 1)));
  });

  test("a block's links: each decodes to its own click, every nonce differs, the same block gives the same links, a changed link changes them all", () => {
    const block = Array.from({ length: 6 }, (_, i): Click => ({ ...CLICK, item: `sku-${i}`, position: i + 1 }));
    const tokens = encodeClickTokens(block, SECRET, EXP);
    assert.deepEqual(
      tokens.map((t) => decodeClickToken(t, SECRET, BEFORE)),
      block.map((click) => ({ ok: true, click })),
    );
    const nonces = tokens.map((t) => Buffer.from(t, 'base64url').subarray(1, 13).toString('hex'));
    assert.equal(new Set(nonces).size, block.length);
    assert.deepEqual(encodeClickTokens(block, SECRET, EXP), tokens);
    const changed = encodeClickTokens([...block.slice(0, 5), { ...block[5], target: 'https://shop.example/p/other' }], SECRET, EXP);
    assert.deepEqual(
      changed.map((t, i) => t === tokens[i]),
      [false, false, false, false, false, false],
      'the nonce is the whole block’s: no two different blocks share one',
    );
  });

  test('expired at its expiry second', () => {
    const token = encodeClickToken(CLICK, SECRET, EXP);
    assert.equal(decodeClickToken(token, SECRET, EXP * 1000 - 1).ok, true);
    assert.deepEqual(decodeClickToken(token, SECRET, EXP * 1000), { ok: false, reason: 'expired' });
  });

  test('any changed byte, or another secret: invalid', () => {
    const token = encodeClickToken(CLICK, SECRET, EXP);
    const bytes = Buffer.from(token, 'base64url');
    const invalid = { ok: false, reason: 'invalid' };
    for (let i = 1; i < bytes.length; i += 7) {
      const altered = Buffer.from(bytes);
      altered[i] ^= 1;
      assert.deepEqual(decodeClickToken(altered.toString('base64url'), SECRET, BEFORE), invalid, `byte ${i}`);
    }
    assert.deepEqual(decodeClickToken(token, `${SECRET}x`, BEFORE), invalid, 'another secret');
  });

  test('malformed tokens', () => {
    for (const token of ['', 'abc', 'a.b', 'AAAA', Buffer.alloc(40, 2).toString('base64url'), `${encodeClickToken(CLICK, SECRET, EXP)}.x`]) {
      assert.deepEqual(decodeClickToken(token, SECRET, BEFORE), { ok: false, reason: 'malformed' }, token);
    }
  });

  test('only http(s) targets are signed', () => {
    for (const target of ['javascript:alert(1)', '//evil.example', '/relative', 'data:text/html,x', 'https://']) {
      assert.throws(() => encodeClickToken({ ...CLICK, target }, SECRET, EXP), /not an http\(s\) URL/, target);
    }
  });

  test('link expiry: at least the TTL, the same all UTC day', () => {
    const day = Date.UTC(2026, 2, 1) / 1000;
    assert.equal(linkExpiry(day * 1000, 100), day + 86400 + 100);
    assert.equal(linkExpiry((day + 86399) * 1000, 100), day + 86400 + 100);
    assert.equal(linkExpiry((day + 86400) * 1000, 100), day + 2 * 86400 + 100);
  });
});

describe('signed email URLs', () => {
  test('bound to user and mail_id; expire', () => {
    const sig = signEmailUrl(SECRET, 'u42', 'm-1', EXP);
    assert.deepEqual(verifyEmailUrl(sig, SECRET, 'u42', 'm-1', EXP, BEFORE), { ok: true });
    assert.equal(verifyEmailUrl(sig, SECRET, 'u43', 'm-1', EXP, BEFORE).ok, false);
    assert.equal(verifyEmailUrl(sig, SECRET, 'u42', null, EXP, BEFORE).ok, false);
    assert.equal(verifyEmailUrl(sig, SECRET, 'u42', 'm-1', EXP + 1, BEFORE).ok, false);
    assert.deepEqual(verifyEmailUrl(sig, SECRET, 'u42', 'm-1', EXP, EXP * 1000), { ok: false, reason: 'expired' });
    // The pair is JSON-encoded: no way to move characters between user and mail_id.
    assert.notEqual(signEmailUrl(SECRET, 'a","b', null, EXP), signEmailUrl(SECRET, 'a', 'b', EXP));
  });

  test('the documented formula', async () => {
    const { createHmac } = await import('node:crypto');
    const expected = createHmac('sha256', SECRET).update(`email-url.${EXP}.["u42","m-1"]`).digest('base64url');
    assert.equal(signEmailUrl(SECRET, 'u42', 'm-1', EXP), expected);
  });
});
