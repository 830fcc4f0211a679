import { randomUUID } from 'node:crypto';
import { excerpt } from './excerpt.js';
import type { HeaderBag } from './headers.js';

/** Longest correlation id kept as sent; anything longer is replaced. */
export const CORRELATION_ID_MAX_LENGTH = 256;
/** How much of a rejected value is recorded (before escaping, see excerpt.ts). */
const REJECTED_KEEP = 128;

export interface CorrelationId {
  id: string;
  /** incoming: kept exactly as sent; generated: none was sent; replaced: one was sent but unusable. */
  source: 'incoming' | 'generated' | 'replaced';
  /** The header the id came from (incoming) or that held the unusable value (replaced). */
  header?: string;
  /** The unusable value, truncated and with control characters escaped: safe to log. */
  rejected?: string;
}

/**
 * Pick the request's correlation id. The first of `headerNames` present on the request decides:
 * its value is kept byte for byte (no trimming, no case change) unless it is over 256 characters,
 * holds a control character, or the header was sent several times with different values; then a
 * fresh id replaces it and the original is recorded in `rejected`. With none present, an id is
 * generated (UUID v4). An empty value counts as absent.
 */
export function resolveCorrelationId(
  headers: HeaderBag,
  headerNames: readonly string[],
  generate: () => string = randomUUID,
): CorrelationId {
  for (const configured of headerNames) {
    const name = configured.toLowerCase();
    const raw = headers[name];
    if (raw === undefined) continue;

    let value: string;
    let problem = false;
    if (typeof raw === 'string') {
      value = raw;
    } else {
      if (raw.length === 0) continue;
      value = raw[0];
      for (let i = 1; i < raw.length; i++) {
        if (raw[i] !== value) {
          problem = true;
          value = raw.join(', ');
          break;
        }
      }
    }
    if (value.length === 0) continue;
    if (!problem && value.length <= CORRELATION_ID_MAX_LENGTH && !hasControlChar(value)) {
      return { id: value, source: 'incoming', header: name };
    }
    return { id: generate(), source: 'replaced', header: name, rejected: excerpt(value, REJECTED_KEEP) };
  }
  return { id: generate(), source: 'generated' };
}

/** C0 controls (incl. TAB, CR, LF) and DEL: never fine in an id that ends up in logs. */
function hasControlChar(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}
