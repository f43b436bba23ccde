// Which ids may be linked into one customer (docs/identity.md): the rules, pure, given what
// PostgreSQL holds about both ids (read under their locks, src/privacy/identities.ts). A customer
// is the canonical id; a linked id is never a customer itself, so a link never makes a chain or a
// cycle, and every id resolves to its customer in one step. A refusal names the field at fault.
import { HttpError } from '../http/errors.ts';

/** What is known about the two ids of a link, read under their locks. */
export interface LinkState {
  /** The customer `anonymous` is linked to already; null: none. */
  anonymousLinkedTo: string | null;
  /** Ids linked to `anonymous` itself: it is a customer. */
  anonymousHasLinks: boolean;
  /** The customer `customer` is linked to: it is not a customer but another's linked id. */
  customerLinkedTo: string | null;
  anonymousErased: boolean;
  customerErased: boolean;
}

/** Why `anonymous` may not be linked to `customer`; null when it may (a link already there included). */
export function linkRefusal(anonymous: string, customer: string, s: LinkState): HttpError | null {
  if (anonymous === customer) return new HttpError(400, 'invalid_request', 'anonymous_id and customer_id are the same id: an id is not linked to itself', 'customer_id');
  if (s.anonymousErased) return new HttpError(409, 'user_erased', 'anonymous_id was erased', 'anonymous_id');
  if (s.customerErased) return new HttpError(409, 'user_erased', 'customer_id was erased', 'customer_id');
  // The other customer is not named: the caller may hold only this pair's tokens.
  if (s.anonymousLinkedTo !== null && s.anonymousLinkedTo !== customer) {
    return new HttpError(409, 'already_linked', 'anonymous_id is linked to another customer: unlink it first (DELETE /v1/identities/{id})', 'anonymous_id');
  }
  if (s.anonymousHasLinks) return new HttpError(409, 'is_customer', 'anonymous_id is a customer (other ids are linked to it): a customer is never linked to another', 'anonymous_id');
  if (s.customerLinkedTo !== null) return new HttpError(409, 'is_linked', 'customer_id is itself linked to a customer: link to that customer instead', 'customer_id');
  return null;
}

/** Why `id` may not be unlinked; null when it may (not linked at all included: unlinking is idempotent). */
export function unlinkRefusal(hasLinks: boolean): HttpError | null {
  return hasLinks ? new HttpError(409, 'is_customer', 'this id is a customer: unlink each id linked to it (DELETE /v1/identities/{linked id})', 'id') : null;
}
