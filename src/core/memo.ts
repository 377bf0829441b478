/**
 * A memo looked up by two keys, an outer one and an inner one, without joining them into a new string to hash
 * on every call. Bounded in all: once it holds `limit` values it starts again empty.
 * @internal
 * @example
 * const memo = new TwoKeyMemo<string, string, number>(10_000);
 * memo.get('US', '+14155550100') ?? memo.set('US', '+14155550100', 1);
 */
export class TwoKeyMemo<Outer, Inner, Value> {
  private readonly tables = new Map<Outer, Map<Inner, Value>>();
  private size = 0;

  constructor(private readonly limit: number) {}

  get(outer: Outer, inner: Inner): Value | undefined {
    return this.tables.get(outer)?.get(inner);
  }

  /** Remembers `value` (call it after a miss: each call counts towards the limit) and returns it. */
  set(outer: Outer, inner: Inner, value: Value): Value {
    if (this.size >= this.limit) {
      this.tables.clear();
      this.size = 0;
    }
    let table = this.tables.get(outer);
    if (!table) {
      table = new Map();
      this.tables.set(outer, table);
    }
    table.set(inner, value);
    this.size++;
    return value;
  }
}
