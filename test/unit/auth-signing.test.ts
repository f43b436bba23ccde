import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { safeEqual, sign, signToken, verifySignature, verifyToken } from '../../src/auth/signing.ts';
import { signUserToken, verifyUserToken } from '../../src/auth/user-token.ts';

const SECRET = 'docs-example-secret-0123456789abcdef';
const EXP = 1767225600; // 2026-01-01T00:00:00Z
const BEFORE = (EXP - 3600) * 1000;

describe('user tokens (the README example)', () => {
  // Also: printf 'user.1767225600.u42' | openssl dgst -sha256 -hmac "$SECRET" -binary | base64 | tr '+/' '-_' | tr -d '='
  const EXAMPLE = '1767225600.KE0oVcOQvP7bjhdOwwJ5N3rO3b5smQoM4MlNOtW11SM';

  test('the worked example: user u42, valid for an hour from 2025-12-31T23:00:00Z', () => {
    assert.equal(signUserToken('u42', SECRET, 3600, BEFORE), EXAMPLE);
    assert.deepEqual(verifyUserToken(EXAMPLE, 'u42', SECRET, BEFORE), { ok: true });
  });

  test('expired at its expiry second, not before', () => {
    assert.deepEqual(verifyUserToken(EXAMPLE, 'u42', SECRET, EXP * 1000 - 1), { ok: true });
    assert.deepEqual(verifyUserToken(EXAMPLE, 'u42', SECRET, EXP * 1000), { ok: false, reason: 'expired' });
  });

  test('another user, another secret, an altered signature or expiry: invalid', () => {
    const invalid = { ok: false, reason: 'invalid' };
    assert.deepEqual(verifyUserToken(EXAMPLE, 'u43', SECRET, BEFORE), invalid);
    assert.deepEqual(verifyUserToken(EXAMPLE, 'u42', `${SECRET}x`, BEFORE), invalid);
    assert.deepEqual(verifyUserToken(EXAMPLE.replace('KE0o', 'KE0p'), 'u42', SECRET, BEFORE), invalid);
    // Pushing the expiry out breaks the signature: a token cannot be extended.
    assert.deepEqual(verifyUserToken(EXAMPLE.replace('1767225600', '1767229200'), 'u42', SECRET, BEFORE), invalid);
  });

  test('malformed tokens are told apart from forged ones', () => {
    for (const token of ['', 'nodot', '.sig', 'abc.sig', '-5.sig', `${'9'.repeat(13)}.sig`]) {
      assert.deepEqual(verifyUserToken(token, 'u42', SECRET, BEFORE), { ok: false, reason: 'malformed' }, token);
    }
  });

  test('user ids with dots cannot be shifted into the expiry', () => {
    const token = signUserToken('a.b', SECRET, 60, BEFORE);
    assert.deepEqual(verifyUserToken(token, 'a.b', SECRET, BEFORE), { ok: true });
    assert.equal(verifyUserToken(token, 'b', SECRET, BEFORE).ok, false);
  });
});

describe('HMAC signing with expiry', () => {
  test('a signature is bound to its purpose: a user token is no click token', () => {
    const token = signToken(SECRET, 'user', 'u42', EXP);
    assert.deepEqual(verifyToken(token, SECRET, 'user', 'u42', BEFORE), { ok: true });
    assert.deepEqual(verifyToken(token, SECRET, 'click', 'u42', BEFORE), { ok: false, reason: 'invalid' });
  });

  test('separate signature and expiry (signed URLs)', () => {
    const sig = sign(SECRET, 'email-url', '/v1/email/popular.html?user=u1', EXP);
    assert.match(sig, /^[A-Za-z0-9_-]{43}$/);
    assert.deepEqual(verifySignature(sig, SECRET, 'email-url', '/v1/email/popular.html?user=u1', EXP, BEFORE), { ok: true });
    assert.deepEqual(verifySignature(sig, SECRET, 'email-url', '/v1/email/popular.html?user=u2', EXP, BEFORE), { ok: false, reason: 'invalid' });
    assert.deepEqual(verifySignature(sig, SECRET, 'email-url', '/x', Number.NaN, BEFORE), { ok: false, reason: 'malformed' });
  });

  test('refuses an empty secret and a purpose that could blur the message', () => {
    assert.throws(() => sign('', 'user', 'u', EXP), /needs a secret/);
    assert.throws(() => sign(SECRET, 'user.x', 'u', EXP), /purpose/);
  });

  test('safeEqual', () => {
    assert.equal(safeEqual('abc', 'abc'), true);
    assert.equal(safeEqual('abc', 'abd'), false);
    assert.equal(safeEqual('abc', 'abcd'), false);
  });
});
