// FlowTable's slots: which are free, and the two eviction lists live flows are on, in the order
// they entered them (embryonic: every TCP state but ESTABLISHED, UDP flows that have seen one
// packet; protected: TCP ESTABLISHED, UDP flows that have seen two or more). A slot is on
// exactly one of the three lists; `next` doubles as the free-list link. 8 bytes per flow.

const NIL = -1;

export const enum EvictionList { EMBRYONIC = 0, PROTECTED = 1 }

export class FlowSlots {
  private readonly prev: Int32Array;
  private readonly next: Int32Array;   // list links for live flows, free-list link for free ones
  private readonly listHead = new Int32Array([NIL, NIL]);
  private readonly listTail = new Int32Array([NIL, NIL]);
  private freeHead = NIL;
  /** Slots [0, highWater) have been used at least once: walks of the table stop there. */
  highWater = 0;

  constructor(capacity: number, memory: (bytes: number) => ArrayBuffer = (bytes) => new ArrayBuffer(bytes)) {
    this.prev = new Int32Array(memory(capacity * 4), 0, capacity);
    this.next = new Int32Array(memory(capacity * 4), 0, capacity);
  }

  get byteLength(): number {
    return this.prev.byteLength + this.next.byteLength + this.listHead.byteLength + this.listTail.byteLength;
  }

  /** A free slot (the caller checked there is one): the last freed, else a never-used one. */
  allocate(): number {
    const flow = this.freeHead;
    if (flow !== NIL) {
      this.freeHead = this.next[flow];
      return flow;
    }
    return this.highWater++;
  }

  /** Back on the free list; unlink it from its eviction list first. */
  release(flow: number): void {
    this.next[flow] = this.freeHead;
    this.freeHead = flow;
  }

  /** The flow an insert into a full table evicts: the oldest embryonic, else the oldest protected; -1 if none. */
  oldest(): number {
    const embryonic = this.listHead[EvictionList.EMBRYONIC];
    return embryonic !== NIL ? embryonic : this.listHead[EvictionList.PROTECTED];
  }

  linkTail(flow: number, list: EvictionList): void {
    const tail = this.listTail[list];
    this.prev[flow] = tail;
    this.next[flow] = NIL;
    if (tail === NIL) this.listHead[list] = flow;
    else this.next[tail] = flow;
    this.listTail[list] = flow;
  }

  unlink(flow: number, list: EvictionList): void {
    const p = this.prev[flow], n = this.next[flow];
    if (p === NIL) this.listHead[list] = n;
    else this.next[p] = n;
    if (n === NIL) this.listTail[list] = p;
    else this.prev[n] = p;
  }
}
