/**
 * Minimal W3C Baggage reader for rule matching: `key1=value1;prop=x, key2=value2`.
 * Values are percent-decoded; properties are ignored; malformed members are skipped (never throws).
 * Used only as a fallback when the pipeline did not hand the matcher an already parsed map.
 */
export function parseBaggage(header: string | string[] | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (header === undefined) return out;
  const text = Array.isArray(header) ? header.join(',') : header;
  for (const member of text.split(',')) {
    const semi = member.indexOf(';');
    const pair = semi === -1 ? member : member.slice(0, semi);
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    const key = pair.slice(0, eq).trim();
    if (key === '') continue;
    const raw = pair.slice(eq + 1).trim();
    let value = raw;
    try {
      value = decodeURIComponent(raw);
    } catch {
      // keep the raw value
    }
    if (!out.has(key)) out.set(key, value);
  }
  return out;
}
