// The rules of linking ids into one customer (src/identity/links.ts) and the variant a customer
// keeps across a link (src/experiments/assignment.ts), pure.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { assign } from '../../src/experiments/assignment.ts';
import type { Experiment } from '../../src/experiments/definition.ts';
import { type LinkState, linkRefusal, unlinkRefusal } from '../../src/identity/links.ts';

const FREE: LinkState = { anonymousLinkedTo: null, anonymousHasLinks: false, customerLinkedTo: null, anonymousErased: false, customerErased: false };
const refusal = (anonymous: string, customer: string, state: Partial<LinkState>) => {
  const err = linkRefusal(anonymous, customer, { ...FREE, ...state });
  return err && [err.statusCode, err.code, err.field];
};

describe('link rules', () => {
  test('a new link, or the same one again, is allowed', () => {
    assert.equal(refusal('a', 'c', {}), null);
    assert.equal(refusal('a', 'c', { anonymousLinkedTo: 'c' }), null);
  });

  test('each refusal names the field at fault', () => {
    assert.deepEqual(refusal('a', 'a', {}), [400, 'invalid_request', 'customer_id']);
    assert.deepEqual(refusal('a', 'c', { anonymousLinkedTo: 'd' }), [409, 'already_linked', 'anonymous_id']);
    assert.deepEqual(refusal('a', 'c', { anonymousHasLinks: true }), [409, 'is_customer', 'anonymous_id'], 'a customer linked to another (or a cycle)');
    assert.deepEqual(refusal('a', 'c', { customerLinkedTo: 'd' }), [409, 'is_linked', 'customer_id'], 'a chain');
    assert.deepEqual(refusal('a', 'c', { anonymousErased: true }), [409, 'user_erased', 'anonymous_id']);
    assert.deepEqual(refusal('a', 'c', { customerErased: true }), [409, 'user_erased', 'customer_id']);
  });

  test('the message never names another customer (the caller may hold only this pair’s tokens)', () => {
    assert.doesNotMatch(linkRefusal('a', 'c', { ...FREE, anonymousLinkedTo: 'secret-d' })!.message, /secret-d/);
  });

  test('a customer with linked ids is not unlinked itself', () => {
    assert.deepEqual([unlinkRefusal(true)?.statusCode, unlinkRefusal(true)?.field], [409, 'id']);
    assert.equal(unlinkRefusal(false), null);
  });
});

describe('a kept variant', () => {
  const experiment: Pick<Experiment, 'salt' | 'hashVersion' | 'coverage' | 'variants' | 'status'> = {
    salt: 's',
    hashVersion: 2,
    coverage: 0.5,
    status: 'running',
    variants: [
      { key: 'a', weight: 0.5, strategy: 'popular', params: {}, control: true },
      { key: 'b', weight: 0.5, strategy: 'popular', params: {}, control: false },
    ],
  };

  test('wins over the hash and the coverage, while running, in the audience, and still a variant', () => {
    for (let i = 0; i < 50; i++) {
      const user = `u${i}`;
      assert.deepEqual([assign(experiment, user, true, 'b').inExperiment, assign(experiment, user, true, 'b').variant.key], [true, 'b']);
      assert.deepEqual(assign(experiment, user, true, 'gone'), assign(experiment, user), 'a variant removed since: the hash decides');
      assert.equal(assign(experiment, user, false, 'b').inExperiment, false);
      assert.equal(assign({ ...experiment, status: 'stopped' }, user, true, 'b').inExperiment, false);
    }
  });
});
