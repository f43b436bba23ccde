// A value derived from a shared object, kept with it for one key at a time (the last asked for):
// a catalog item of the model cache or a user's kept result is asked for the same derived value
// again and again (its JSON, its block's links), and the key (link templates, a field list)
// rarely changes. Held weakly: the value goes with the object.
export function keptWith<Owner extends object, Key, Value>(same: (a: Key, b: Key) => boolean = Object.is): (owner: Owner, key: Key, make: () => Value) => Value {
  const kept = new WeakMap<Owner, { key: Key; value: Value }>();
  return (owner, key, make) => {
    const found = kept.get(owner);
    if (found !== undefined && same(found.key, key)) return found.value;
    const value = make();
    kept.set(owner, { key, value });
    return value;
  };
}
