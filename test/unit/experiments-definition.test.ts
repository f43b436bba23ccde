import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkDefinition, transition, type Variant } from '../../src/experiments/definition.ts';
import { HttpError } from '../../src/errors.ts';

const v = (key: string, weight = 1, control = false): Variant => ({ key, weight, strategy: 'popular', params: {}, control });

function rejects(fn: () => void, status: number, field: string, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof HttpError);
    assert.equal(err.statusCode, status);
    assert.equal(err.field, field);
    assert.match(err.message, message);
    return true;
  });
}

describe('experiment definitions', () => {
  test('a good definition passes', () => {
    checkDefinition([v('a', 1, true), v('b', 0)]);
  });

  test('duplicate variant keys name the second one', () => {
    rejects(() => checkDefinition([v('a', 1, true), v('b'), v('a')]), 400, 'variants[2].key', /"a" is used twice/);
  });

  test('exactly one control', () => {
    rejects(() => checkDefinition([v('a'), v('b')]), 400, 'variants', /exactly one .*found 0/);
    rejects(() => checkDefinition([v('a', 1, true), v('b', 1, true)]), 400, 'variants[1].control', /found 2/);
  });

  test('weights must sum to more than 0', () => {
    rejects(() => checkDefinition([v('a', 0, true), v('b', 0)]), 400, 'variants', /sum to more than 0/);
  });
});

describe('status transitions', () => {
  test('draft → running → stopped', () => {
    assert.equal(transition('draft', 'start'), 'running');
    assert.equal(transition('running', 'stop'), 'stopped');
  });

  test('anything else is a 409', () => {
    rejects(() => transition('running', 'start'), 409, 'status', /cannot start an experiment that is running/);
    rejects(() => transition('stopped', 'start'), 409, 'status', /cannot start/);
    rejects(() => transition('draft', 'stop'), 409, 'status', /cannot stop an experiment that is draft/);
    rejects(() => transition('stopped', 'stop'), 409, 'status', /cannot stop/);
  });
});
