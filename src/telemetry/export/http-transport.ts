/**
 * OTLP/HTTP (http/protobuf and http/json): one POST per batch on an undici keep-alive pool, the
 * configured headers, the OTLP timeout for the whole exchange, gzip when configured.
 *
 * Retry classification follows the OTLP spec: 429, 502, 503 and 504 are retryable (honouring
 * Retry-After, seconds or an HTTP date), as are network errors and timeouts; any other non-2xx
 * answer is not.
 */
import { promisify } from 'node:util';
import { gzip as gzipCallback } from 'node:zlib';
import { createRequire } from 'node:module';
import type * as Undici from 'undici';
import { decodePartialSuccess } from '../otlp/decode.js';
import { ExportFailure, type SendResult, type Transport } from './types.js';
import type { TlsFiles } from './tls.js';

const gzip = promisify(gzipCallback);
type Pool = Undici.Pool;
/**
 * undici's index (110 modules) is required when an OTLP/HTTP exporter is made, not when this module
 * loads: a start without one never pays for it (test/cli/lazy-loading.test.ts). Its Pool module alone
 * would not do: `request()` is added to every dispatcher by the index.
 */
const loadUndici = (): typeof Undici => createRequire(import.meta.url)('undici') as typeof Undici;

const RETRYABLE_STATUS = new Set([429, 502, 503, 504]);
/** Enough of an answer to read partial_success or an error message; the rest is discarded. */
const MAX_ANSWER_BYTES = 64 * 1024;

export interface HttpTransportOptions {
  /** The full URL to POST to (…/v1/traces). */
  url: string;
  json: boolean;
  headers: Record<string, string>;
  timeout: number;
  gzip: boolean;
  userAgent: string;
  tls: TlsFiles;
}

/** Retry-After: delta-seconds or an HTTP date → milliseconds from now. */
export function retryAfterMs(value: string | string[] | undefined, now = Date.now()): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function createHttpTransport(options: HttpTransportOptions): Transport {
  const url = new URL(options.url);
  const pool: Pool = new (loadUndici().Pool)(url.origin, {
    connections: 2,
    connect: url.protocol === 'https:' ? { ca: options.tls.ca, key: options.tls.key, cert: options.tls.cert } : undefined,
  });
  const path = `${url.pathname}${url.search}`;
  const baseHeaders: Record<string, string> = {
    ...options.headers,
    'content-type': options.json ? 'application/json' : 'application/x-protobuf',
    'user-agent': options.userAgent,
    ...(options.gzip ? { 'content-encoding': 'gzip' } : {}),
  };

  const inFlight = new Set<AbortController>();
  return {
    async send(body) {
      const payload = options.gzip ? await gzip(body) : body;
      let answer: Awaited<ReturnType<Pool['request']>>;
      const abort = new AbortController();
      inFlight.add(abort);
      try {
        answer = await pool.request({
          path,
          method: 'POST',
          headers: baseHeaders,
          body: payload,
          headersTimeout: options.timeout,
          bodyTimeout: options.timeout,
          signal: AbortSignal.any([abort.signal, AbortSignal.timeout(options.timeout)]),
        });
      } catch (err) {
        inFlight.delete(abort);
        // Refused, reset, DNS, TLS, timeout: the collector may be back soon.
        throw new ExportFailure(`OTLP/HTTP ${url.host}: ${(err as Error).message}`, true);
      }
      const data = await readBounded(answer.body);
      inFlight.delete(abort);
      const status = answer.statusCode;
      if (status >= 200 && status < 300) {
        if (options.json) {
          const rejected = jsonPartialSuccess(data);
          return rejected ?? { rejected: 0 };
        }
        const partial = data.length > 0 ? decodePartialSuccess(data) : undefined;
        return partial ? { rejected: partial.rejectedSpans, errorMessage: partial.errorMessage } : { rejected: 0 };
      }
      throw new ExportFailure(
        `OTLP/HTTP ${url.host} answered ${status}`,
        RETRYABLE_STATUS.has(status),
        RETRYABLE_STATUS.has(status) ? retryAfterMs(answer.headers['retry-after']) : undefined,
      );
    },
    async close() {
      for (const abort of inFlight) abort.abort();
      inFlight.clear();
      await pool.close();
    },
  };
}

async function readBounded(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      if (size < MAX_ANSWER_BYTES) chunks.push(chunk);
      size += chunk.length;
    }
  } catch {
    // a broken answer body: what arrived is all there is
  }
  return Buffer.concat(chunks);
}

function jsonPartialSuccess(data: Buffer): SendResult | undefined {
  if (data.length === 0) return undefined;
  try {
    const parsed = JSON.parse(data.toString('utf8')) as { partialSuccess?: { rejectedSpans?: string | number; errorMessage?: string } };
    const rejected = Number(parsed.partialSuccess?.rejectedSpans ?? 0);
    if (!(rejected > 0)) return undefined;
    return { rejected, errorMessage: parsed.partialSuccess?.errorMessage };
  } catch {
    return undefined;
  }
}
