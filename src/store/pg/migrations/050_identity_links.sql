-- One customer across visits and devices (docs/identity.md): an anonymous or device id linked
-- to the customer id it belongs to, per tenant. The customer is the canonical id: the build, the
-- report, opt-out and erasure read every linked id as theirs. One customer per linked id (the
-- key); a linked id is never a customer itself, so there are no chains or cycles: checked, under
-- both ids' locks, by the one writer of this table (src/store/pg/identities.ts).
CREATE TABLE identity_links (
  tenant_id    text NOT NULL REFERENCES tenants (id),
  alias_id     text NOT NULL,
  customer_id  text NOT NULL,
  linked_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, alias_id),
  CHECK (alias_id <> customer_id)
);
-- A customer's linked ids (erasure, opt-out, the report's and the build's persons).
CREATE INDEX identity_links_customer_idx ON identity_links (tenant_id, customer_id);
