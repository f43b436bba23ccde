import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { generateApiKey, hashApiKey, keyPrefix, matchesHash, normalizeOrigin } from '../../src/auth/api-key.ts';
import Fastify from 'fastify';
import { declareAccess } from '../../src/auth/access.ts';
import { grants } from '../../src/auth/plugin.ts';
import { formatRate, parseRate } from '../../src/auth/rate.ts';

describe('API keys', () => {
  test('a key: recs_<12 hex>_<43 base64url>, its prefix and SHA-256', () => {
    const { key, prefix, hash } = generateApiKey();
    assert.match(key, /^recs_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    assert.equal(keyPrefix(key), prefix);
    assert.equal(hash, hashApiKey(key));
    assert.match(hash, /^[0-9a-f]{64}$/);
    assert.equal(matchesHash(key, hash), true);
    assert.equal(matchesHash(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`, hash), false);
    assert.notEqual(generateApiKey().key, key);
  });

  test('a known SHA-256', () => {
    assert.equal(hashApiKey('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  test('malformed keys have no prefix', () => {
    for (const bad of ['', 'recs_0123456789ab', 'recs_0123456789AB_' + 'a'.repeat(43), 'recs_0123456789ab_' + 'a'.repeat(42), 'x' + generateApiKey().key]) {
      assert.equal(keyPrefix(bad), null, bad);
    }
  });

  test('origins are normalised to what browsers send', () => {
    assert.equal(normalizeOrigin('https://Shop.Example'), 'https://shop.example');
    assert.equal(normalizeOrigin('https://shop.example:443/'), 'https://shop.example');
    assert.equal(normalizeOrigin('http://localhost:3000'), 'http://localhost:3000');
    for (const bad of ['shop.example', 'https://shop.example/path', 'ftp://shop.example', 'https://shop.example?x=1', '*']) {
      assert.throws(() => normalizeOrigin(bad), /not an origin/, bad);
    }
  });
});

describe('route access', () => {
  test('a route that declares no access or personal data cannot be registered', async () => {
    const app = Fastify();
    declareAccess(app);
    app.get('/declared', { config: { access: 'read', personal: 'none' } }, async () => ({}));
    assert.throws(() => app.get('/undeclared', async () => ({})), /route GET \/undeclared must declare config.access and config.personal/);
    assert.throws(() => app.post('/half', { config: { access: 'write' } }, async () => ({})), /must declare/);
    app.get('/docs/static/x', async () => ({}));
    await app.ready();
    await app.close();
  });

  test('write implies read', () => {
    assert.equal(grants('write', 'read'), true);
    assert.equal(grants('write', 'write'), true);
    assert.equal(grants('read', 'read'), true);
    assert.equal(grants('read', 'write'), false);
  });
});

describe('rates', () => {
  test('parse and format', () => {
    assert.deepEqual(parseRate('100/s'), { limit: 100, windowSeconds: 1 });
    assert.deepEqual(parseRate(' 6000/min '), { limit: 6000, windowSeconds: 60 });
    assert.deepEqual(parseRate('20000/h'), { limit: 20000, windowSeconds: 3600 });
    assert.equal(formatRate(parseRate('6000/min')), '6000/min');
    assert.equal(formatRate({ limit: 5, windowSeconds: 10 }), '5 per 10 s');
  });

  test('bad rates', () => {
    for (const bad of ['', '100', '0/s', '-1/s', '10/day', '1.5/s', 'x/s']) assert.throws(() => parseRate(bad), /bad rate/, bad);
  });
});
