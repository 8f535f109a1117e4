// A bounded selection of the k best items: a heap whose root is the worst item kept, so an item
// that does not beat it costs one comparison. O(n log k) instead of sorting all n.

export class TopK<T> {
  private readonly heap: T[] = [];

  /** `better(a, b)` is true when a ranks strictly before b; it must be a strict total order. */
  constructor(
    private readonly k: number,
    private readonly better: (a: T, b: T) => boolean,
  ) {}

  /** The item a newcomer must beat, or undefined while there is still room. */
  get threshold(): T | undefined {
    return this.heap.length < this.k ? undefined : this.heap[0];
  }

  push(item: T): void {
    if (this.k <= 0) return;
    const heap = this.heap;
    if (heap.length < this.k) {
      heap.push(item);
      this.siftUp(heap.length - 1);
    } else if (this.better(item, heap[0] as T)) {
      heap[0] = item;
      this.siftDown(0);
    }
  }

  /** The kept items, best first. */
  sorted(): T[] {
    return [...this.heap].sort((a, b) => (this.better(a, b) ? -1 : this.better(b, a) ? 1 : 0));
  }

  // The heap is ordered worst-first: a parent is never better than its children.
  private siftUp(i: number): void {
    const heap = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.better(heap[parent] as T, heap[i] as T)) return;
      [heap[parent], heap[i]] = [heap[i] as T, heap[parent] as T];
      i = parent;
    }
  }

  private siftDown(i: number): void {
    const heap = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < heap.length && this.better(heap[worst] as T, heap[l] as T)) worst = l;
      if (r < heap.length && this.better(heap[worst] as T, heap[r] as T)) worst = r;
      if (worst === i) return;
      [heap[worst], heap[i]] = [heap[i] as T, heap[worst] as T];
      i = worst;
    }
  }
}
