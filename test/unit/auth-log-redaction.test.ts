import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateApiKey } from '../../src/auth/api-key.ts';
import { redactSecrets } from '../../src/auth/log-redaction.ts';

test('masks credentials in query strings, keeps everything else', () => {
  assert.equal(redactSecrets('/v1/recommendations/recently-viewed?user=u42&user_token=1767225600.KE0o&limit=5'), '/v1/recommendations/recently-viewed?user=u42&user_token=[redacted]&limit=5');
  assert.equal(redactSecrets('/v1/r/x?token=abc#frag'), '/v1/r/x?token=[redacted]#frag');
  assert.equal(redactSecrets('/v1/email/popular.html?exp=1&sig=AbC-_d&user=u'), '/v1/email/popular.html?exp=1&sig=[redacted]&user=u');
  assert.equal(redactSecrets('Route GET:/nope?USER_TOKEN=abc&api_key=k not found'), 'Route GET:/nope?USER_TOKEN=[redacted]&api_key=[redacted] not found');
  assert.equal(redactSecrets('/v1/recommendations/popular?category=token&monkey=1'), '/v1/recommendations/popular?category=token&monkey=1');
});

test('masks the secret half of an API key wherever it appears', () => {
  const { key, prefix } = generateApiKey();
  assert.equal(redactSecrets(`/x?k=${key}&a=1`), `/x?k=${prefix}_[redacted]&a=1`);
});
