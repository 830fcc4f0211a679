/**
 * The JavaScript response-head reader (proxy/h1-head.ts) against llhttp: for every response in
 * the corpus, the client with the reader and the client without it (llhttp reads every head) must
 * give the handler the same status, headers, body, error and connection reuse. The reader may
 * only decline what it is unsure of; it may never read a response differently from llhttp.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Dispatcher } from 'undici';
import { H1Client } from '../../src/proxy/h1-client.js';
import { readSimpleHead } from '../../src/proxy/h1-head.js';

const OK_TAIL = 'HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nnext';

/** [what, response bytes, request method]. */
const CORPUS: Array<[string, string, string?]> = [
  ['plain Content-Length', 'HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 5\r\n\r\nhello'],
  ['empty reason phrase', 'HTTP/1.1 200 \r\ncontent-length: 2\r\n\r\nok'],
  ['no reason phrase, no space', 'HTTP/1.1 200\r\ncontent-length: 2\r\n\r\nok'],
  ['reason with obs-text and tab', 'HTTP/1.1 200 O\tK \xe9\r\ncontent-length: 2\r\n\r\nok'],
  ['reason with a control character', 'HTTP/1.1 200 O\x01K\r\ncontent-length: 2\r\n\r\nok'],
  ['value whitespace trimmed both ends', 'HTTP/1.1 200 OK\r\nx-a:   spaced  value \t \r\ncontent-length: 2\r\n\r\nok'],
  ['empty value', 'HTTP/1.1 200 OK\r\nx-empty:\r\ncontent-length: 2\r\n\r\nok'],
  ['obs-text in a value', 'HTTP/1.1 200 OK\r\nx-latin: caf\xe9\r\ncontent-length: 2\r\n\r\nok'],
  ['DEL in a value', 'HTTP/1.1 200 OK\r\nx-del: a\x7fb\r\ncontent-length: 2\r\n\r\nok'],
  ['NUL in a value', 'HTTP/1.1 200 OK\r\nx-nul: a\x00b\r\ncontent-length: 2\r\n\r\nok'],
  ['bare LF inside a value', 'HTTP/1.1 200 OK\r\nx-lf: a\nb\r\ncontent-length: 2\r\n\r\nok'],
  ['bare CR inside a value', 'HTTP/1.1 200 OK\r\nx-cr: a\rb\r\ncontent-length: 2\r\n\r\nok'],
  ['space before the colon', 'HTTP/1.1 200 OK\r\ncontent-length : 2\r\n\r\nok'],
  ['obs-fold', 'HTTP/1.1 200 OK\r\nx-fold: a\r\n b\r\ncontent-length: 2\r\n\r\nok'],
  ['no colon', 'HTTP/1.1 200 OK\r\nx-nocolon\r\ncontent-length: 2\r\n\r\nok'],
  ['empty name', 'HTTP/1.1 200 OK\r\n: v\r\ncontent-length: 2\r\n\r\nok'],
  ['odd token characters in a name', "HTTP/1.1 200 OK\r\nx!#$%&'*+-.^_`|~9: v\r\ncontent-length: 2\r\n\r\nok"],
  ['a separator in a name', 'HTTP/1.1 200 OK\r\nx(y): v\r\ncontent-length: 2\r\n\r\nok'],
  ['duplicate equal Content-Length', 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\nok'],
  ['duplicate different Content-Length', 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\nokk'],
  ['Content-Length list', 'HTTP/1.1 200 OK\r\ncontent-length: 2, 2\r\n\r\nok'],
  ['Content-Length with a sign', 'HTTP/1.1 200 OK\r\ncontent-length: +2\r\n\r\nok'],
  ['Content-Length with leading zeros', 'HTTP/1.1 200 OK\r\ncontent-length: 0002\r\n\r\nok'],
  ['Content-Length in capitals', 'HTTP/1.1 200 OK\r\nCONTENT-LENGTH: 2\r\n\r\nok'],
  ['Content-Length empty', 'HTTP/1.1 200 OK\r\ncontent-length: \r\n\r\nok'],
  ['Content-Length 0', 'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'],
  ['Content-Length and Transfer-Encoding', 'HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['chunked', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n'],
  ['Transfer-Encoding not ending in chunked', 'HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\nuntil close'],
  ['no framing (close-delimited)', 'HTTP/1.1 200 OK\r\n\r\nuntil close'],
  ['204 with a Content-Length', 'HTTP/1.1 204 No Content\r\ncontent-length: 10\r\n\r\n'],
  ['304 without framing', 'HTTP/1.1 304 Not Modified\r\netag: "x"\r\n\r\n'],
  ['HEAD with Content-Length', 'HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n', 'HEAD'],
  ['HEAD with chunked', 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n', 'HEAD'],
  ['Connection: close', 'HTTP/1.1 200 OK\r\nConnection: Close\r\ncontent-length: 2\r\n\r\nok'],
  ['Connection: keep-alive', 'HTTP/1.1 200 OK\r\nconnection: keep-alive\r\ncontent-length: 2\r\n\r\nok'],
  ['Connection list with close', 'HTTP/1.1 200 OK\r\nconnection: keep-alive, close\r\ncontent-length: 2\r\n\r\nok'],
  ['Connection: upgrade without 101', 'HTTP/1.1 200 OK\r\nconnection: upgrade\r\nupgrade: websocket\r\ncontent-length: 2\r\n\r\nok'],
  ['Upgrade alone', 'HTTP/1.1 200 OK\r\nupgrade: websocket\r\ncontent-length: 2\r\n\r\nok'],
  ['101', 'HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: websocket\r\n\r\n'],
  ['103 then 200', 'HTTP/1.1 103 Early Hints\r\nlink: </a>\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'],
  ['HTTP/1.0', 'HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok'],
  ['HTTP/2.0 in a status line', 'HTTP/2.0 200 OK\r\ncontent-length: 2\r\n\r\nok'],
  ['lower-case version', 'http/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok'],
  ['two-digit status', 'HTTP/1.1 20 OK\r\ncontent-length: 2\r\n\r\nok'],
  ['status 999', 'HTTP/1.1 999 Odd\r\ncontent-length: 2\r\n\r\nok'],
  ['status with a letter', 'HTTP/1.1 2x0 OK\r\ncontent-length: 2\r\n\r\nok'],
  ['garbage', 'HELLO THERE\r\n\r\n'],
  ['Keep-Alive hint too short', 'HTTP/1.1 200 OK\r\nkeep-alive: timeout=1\r\ncontent-length: 2\r\n\r\nok'],
  ['Keep-Alive hint usable', 'HTTP/1.1 200 OK\r\nKeep-Alive: max=100, timeout=5\r\ncontent-length: 2\r\n\r\nok'],
  ['bytes past the body', 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokEXTRA'],
  ['body shorter than Content-Length, then close', 'HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nshort'],
  ['many fields', `HTTP/1.1 200 OK\r\n${Array.from({ length: 50 }, (_, i) => `x-h${i}: ${i}\r\n`).join('')}content-length: 2\r\n\r\nok`],
  ['head over 16 KiB', `HTTP/1.1 200 OK\r\nx-big: ${'a'.repeat(17_000)}\r\ncontent-length: 2\r\n\r\nok`],
];

interface Seen {
  statuses: number[];
  statusText?: string;
  headers?: string[];
  body: string;
  trailers?: string[];
  error?: string;
  /** Whether a second request went over the same connection. */
  reused?: boolean;
}

describe('the JavaScript head reader reads every response as llhttp does, or leaves it to llhttp', () => {
  let server: Server;
  let origin: string;
  /** The response a connection answers first, by the path of its first request. */
  let connections = 0;
  beforeAll(async () => {
    server = createServer((socket: Socket) => {
      connections++;
      socket.on('error', () => {});
      let buf = '';
      let first = true;
      socket.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        let end: number;
        while ((end = buf.indexOf('\r\n\r\n')) >= 0) {
          const path = decodeURIComponent(buf.split(' ')[1] ?? '/').slice(1);
          buf = buf.slice(end + 4);
          if (first) {
            first = false;
            // A connection opened for the follow-up request (the first one was closed) answers it plainly.
            const response = CORPUS.find(([what]) => what === path)?.[1] ?? OK_TAIL;
            const bytes = Buffer.from(response, 'latin1');
            if (/until close|short$/.test(response)) socket.end(bytes);
            else socket.write(bytes);
          } else socket.write(OK_TAIL);
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  function once(client: H1Client, path: string, method: string): Promise<Seen> {
    return new Promise((resolve) => {
      const seen: Seen = { statuses: [], body: '' };
      client.dispatch({ origin, path, method, headers: [], headersTimeout: 2_000, bodyTimeout: 2_000 } as Dispatcher.DispatchOptions, {
        onConnect: () => {},
        onHeaders: (status, raw, _resume, text) => {
          seen.statuses.push(status);
          if (status >= 200) {
            seen.headers = (raw as unknown as string[]).slice();
            seen.statusText = text;
          }
          return true;
        },
        onData: (chunk) => {
          seen.body += chunk.toString('latin1');
          return true;
        },
        onComplete: (trailers) => {
          seen.trailers = (trailers as unknown as string[] | null) ?? [];
          resolve(seen);
        },
        onError: (err) => {
          seen.error = `${err.name}: ${err.message} ${(err as { code?: string }).code ?? ''}`;
          resolve(seen);
        },
      });
    });
  }

  async function run(simpleHeads: boolean, what: string, method: string): Promise<Seen> {
    const client = new H1Client({ connectTimeout: 2_000, keepAliveTimeout: 4_000, keepAliveMaxTimeout: 60_000, simpleHeads, fallback: () => { throw new Error('no fallback'); } });
    try {
      const path = `/${encodeURIComponent(what)}`;
      const seen = await once(client, path, method);
      const before = connections;
      // Give a close or a reset a moment to reach the pool, then see whether the connection is reused.
      await new Promise((r) => setTimeout(r, 30));
      if (!seen.error) {
        const next = await once(client, '/next', 'GET');
        seen.reused = connections === before && next.body === 'next';
      }
      return seen;
    } finally {
      await client.close();
    }
  }

  it.each(CORPUS)('%s', async (what, _response, method = 'GET') => {
    const llhttp = await run(false, what, method);
    const js = await run(true, what, method);
    expect(js).toEqual(llhttp);
  });

  it('the reader itself takes the common heads and declines the rest', () => {
    const take = (s: string, head = false) => readSimpleHead(Buffer.from(s, 'latin1'), head, 16_384);
    expect(take('HTTP/1.1 200 OK\r\ncontent-length: 5\r\nkeep-alive: timeout=5\r\n\r\nhello')).toEqual({
      status: 200,
      statusText: 'OK',
      headers: ['content-length', '5', 'keep-alive', 'timeout=5'],
      bodyStart: 61,
      contentLength: 5,
      keepAlive: true,
      keepAliveSeconds: 5,
    });
    expect(take('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n', true)?.contentLength).toBe(0);
    expect(take('HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 0\r\n\r\n')?.keepAlive).toBe(false);
    for (const declined of [
      'HTTP/1.1 200 OK\r\ncontent-length: 5\r\n', // head not complete in this chunk
      'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n',
      'HTTP/1.1 200 OK\r\n\r\n', // no Content-Length
      'HTTP/1.1 100 Continue\r\n\r\n',
      'HTTP/1.0 200 OK\r\ncontent-length: 0\r\n\r\n',
      'HTTP/1.1 200 OK\r\ncontent-length: 1\r\ncontent-length: 1\r\n\r\nx',
    ]) {
      expect(take(declined), JSON.stringify(declined)).toBeUndefined();
    }
  });
});
