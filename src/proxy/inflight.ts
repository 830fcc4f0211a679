/**
 * In-flight ingress requests, so egress can find the SERVER span a request belongs to
 * (README, "Stitching"). Keys: correlation id, and the SERVER span id (which is what a forwarded
 * traceparent / b3 names as parent). Bounded: past `limit`, new entries are not indexed (the
 * request still works; it just cannot be stitched by correlation id); add() answers false.
 */
export interface InflightEntry {
  traceId: string;
  spanId: string;
  correlationId: string;
  sampled: boolean;
  traceIdBits: 64 | 128;
  random: boolean;
  debug: boolean;
  traceState?: string;
  /** SERVER span route name, for the propagation doctor. */
  route: string;
  /** Egress calls made under this request (for the span's own attributes). */
  egressCalls: number;
}

export class InflightRegistry {
  private readonly byCorrelation = new Map<string, InflightEntry>();
  private readonly bySpan = new Map<string, InflightEntry>();
  private count = 0;

  constructor(private readonly limit = 10_000) {}

  add(entry: InflightEntry): boolean {
    this.count++;
    if (this.bySpan.size >= this.limit) return false;
    this.bySpan.set(entry.spanId, entry);
    // Two callers may reuse one correlation id: the newest wins, and delete() checks identity.
    this.byCorrelation.set(entry.correlationId, entry);
    return true;
  }

  delete(entry: InflightEntry): void {
    this.count--;
    if (this.bySpan.get(entry.spanId) === entry) this.bySpan.delete(entry.spanId);
    if (this.byCorrelation.get(entry.correlationId) === entry) this.byCorrelation.delete(entry.correlationId);
  }

  bySpanId(spanId: string): InflightEntry | undefined {
    return this.bySpan.get(spanId);
  }

  byCorrelationId(id: string): InflightEntry | undefined {
    return this.byCorrelation.get(id);
  }

  /** The only in-flight ingress request, or undefined when there are none or several. */
  sole(): InflightEntry | undefined {
    if (this.count !== 1 || this.bySpan.size !== 1) return undefined;
    return this.bySpan.values().next().value;
  }

  get size(): number {
    return this.count;
  }
}
