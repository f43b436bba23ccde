// Small integers for item ids, handed out in first-seen order, one numbering per model version:
// request-time scoring (src/cf/personalize.ts) adds up scores in typed arrays indexed by them.
// Only ids of stored neighbour lists are numbered, so the numbering is bounded by the catalog.

export class ItemSlots {
  private readonly slots = new Map<string, number>();

  slotOf(id: string): number {
    let slot = this.slots.get(id);
    if (slot === undefined) {
      slot = this.slots.size;
      this.slots.set(id, slot);
    }
    return slot;
  }
}
