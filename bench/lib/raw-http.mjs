// HTTP/1.1 heads on raw sockets, for the bench's probes (bench/raw-probe-proxy.mjs,
// bench/http-raw-upstream-probe.mjs) and the hop-by-hop list every bench proxy drops. Only what
// the bench sends is handled: no validation, no obs-fold, one message head at a time.

/** RFC 9110 §7.6.1 connection-specific fields (lowercase). */
export const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/** A head without its final CRLF CRLF → its first line and a flat [name, value, …] list. */
export function parseHead(head) {
  const lines = head.split('\r\n');
  const headers = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i];
    const colon = line.indexOf(':');
    if (colon > 0) headers.push(line.slice(0, colon), line.slice(colon + 1).trim());
  }
  return { first: lines[0], headers, rest: undefined };
}

/** Collects a message head across chunks (latin1: one character a byte). */
export class HeadReader {
  text = '';

  /** The head once `chunk` completes it, with `rest` = the bytes of `chunk` after it; else undefined. */
  push(chunk) {
    this.text += chunk.toString('latin1');
    const end = this.text.indexOf('\r\n\r\n');
    if (end < 0) return undefined;
    const head = parseHead(this.text.slice(0, end));
    head.rest = chunk.subarray(chunk.length - (this.text.length - end - 4));
    this.text = '';
    return head;
  }
}
