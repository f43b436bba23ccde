import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { checkDefinition, transition, type VariantInput } from '../../src/experiments/definition.ts';
import { HttpError } from '../../src/http/errors.ts';

const v = (key: string, weight: number | undefined, control = false): VariantInput => ({ key, weight, strategy: 'popular', params: {}, control });

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
  test('a good definition passes, weights as given', () => {
    assert.deepEqual(
      checkDefinition([v('a', 1, true), v('b', 0)]).map((x) => x.weight),
      [1, 0],
    );
    assert.deepEqual(
      checkDefinition([v('a', 0.25, true), v('b', 0.25), v('c', 0.5)]).map((x) => x.weight),
      [0.25, 0.25, 0.5],
    );
    // Within GrowthBook's 0.01: used as they are (the SDKs do too), not rescaled.
    assert.deepEqual(
      checkDefinition([v('a', 0.4, true), v('b', 0.5999)]).map((x) => x.weight),
      [0.4, 0.5999],
    );
    assert.deepEqual(
      checkDefinition([v('a', 0.336, true), v('b', 0.336), v('c', 0.336)]).map((x) => x.weight),
      [0.336, 0.336, 0.336],
    );
  });

  test("no weights at all: an equal split, as GrowthBook's default", () => {
    assert.deepEqual(
      checkDefinition([v('a', undefined, true), v('b', undefined), v('c', undefined)]).map((x) => x.weight),
      [1 / 3, 1 / 3, 1 / 3],
    );
  });

  test('duplicate variant keys name the second one', () => {
    rejects(() => checkDefinition([v('a', 0.5, true), v('b', 0.5), v('a', 0)]), 400, 'variants[2].key', /"a" is used twice/);
  });

  test('exactly one control', () => {
    rejects(() => checkDefinition([v('a', 0.5), v('b', 0.5)]), 400, 'variants', /exactly one .*found 0/);
    rejects(() => checkDefinition([v('a', 0.5, true), v('b', 0.5, true)]), 400, 'variants[1].control', /found 2/);
  });

  test('weights that do not sum to 1 (within 0.01) are refused, naming variants: GrowthBook would split equally', () => {
    rejects(() => checkDefinition([v('a', 1, true), v('b', 1), v('c', 2)]), 400, 'variants', /weights must sum to 1 .*these sum to 4$/);
    rejects(() => checkDefinition([v('a', 50, true), v('b', 50)]), 400, 'variants', /weights must sum to 1/);
    rejects(() => checkDefinition([v('a', 0, true), v('b', 0)]), 400, 'variants', /weights must sum to 1 .*these sum to 0$/);
    rejects(() => checkDefinition([v('a', 0.4, true), v('b', 0.589)]), 400, 'variants', /weights must sum to 1/);
    rejects(() => checkDefinition([v('a', 0.5, true), v('b', 0.511)]), 400, 'variants', /weights must sum to 1/);
  });

  test('weights on some variants only are refused', () => {
    rejects(() => checkDefinition([v('a', 1, true), v('b', undefined)]), 400, 'variants', /weights must sum to 1: give every variant a weight, or none .*\(1 of 2 have one\)/);
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
