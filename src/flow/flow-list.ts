// Intrusive doubly linked lists over slot indices, kept in typed arrays so that moving a flow
// to the tail (it just saw a packet) or taking the oldest (eviction, timeouts) is O(1) and
// allocates nothing. One FlowLists instance holds several lists that share prev/next arrays:
// a slot is on at most one of them at a time.

export const NIL = -1;

export class FlowLists {
  readonly prev: Int32Array;
  readonly next: Int32Array;
  /** Which list a slot is on (index into heads/tails), or NIL. */
  readonly owner: Int8Array;
  readonly heads: Int32Array;
  readonly tails: Int32Array;
  readonly sizes: Int32Array;

  constructor(capacity: number, lists: number) {
    this.prev = new Int32Array(capacity).fill(NIL);
    this.next = new Int32Array(capacity).fill(NIL);
    this.owner = new Int8Array(capacity).fill(NIL);
    this.heads = new Int32Array(lists).fill(NIL);
    this.tails = new Int32Array(lists).fill(NIL);
    this.sizes = new Int32Array(lists);
  }

  head(list: number): number {
    return this.heads[list];
  }

  pushTail(list: number, slot: number): void {
    const tail = this.tails[list];
    this.prev[slot] = tail;
    this.next[slot] = NIL;
    if (tail === NIL) this.heads[list] = slot;
    else this.next[tail] = slot;
    this.tails[list] = slot;
    this.owner[slot] = list;
    this.sizes[list]++;
  }

  remove(slot: number): void {
    const list = this.owner[slot];
    if (list === NIL) return;
    const p = this.prev[slot];
    const n = this.next[slot];
    if (p === NIL) this.heads[list] = n;
    else this.next[p] = n;
    if (n === NIL) this.tails[list] = p;
    else this.prev[n] = p;
    this.prev[slot] = NIL;
    this.next[slot] = NIL;
    this.owner[slot] = NIL;
    this.sizes[list]--;
  }

  /** Move a slot to the tail of `list` (from whichever list it is on). */
  moveToTail(list: number, slot: number): void {
    if (this.owner[slot] === list && this.tails[list] === slot) return;
    this.remove(slot);
    this.pushTail(list, slot);
  }
}
