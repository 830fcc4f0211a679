/** The bench probes' head reader (bench/lib/raw-http.mjs): heads split across chunks, bytes after them kept. */
import { describe, expect, it } from 'vitest';
import { HeadReader, parseHead } from '../../bench/lib/raw-http.mjs';

describe('bench raw-http', () => {
  it('parses the first line and a flat header list, values trimmed', () => {
    expect(parseHead('HTTP/1.1 200 OK\r\ncontent-length: 3\r\nX-A:  b ')).toEqual({ first: 'HTTP/1.1 200 OK', headers: ['content-length', '3', 'X-A', 'b'], rest: undefined });
  });

  it('waits for CRLF CRLF across chunks and hands back only the bytes after it', () => {
    const r = new HeadReader();
    expect(r.push(Buffer.from('HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r', 'latin1'))).toBeUndefined();
    const head = r.push(Buffer.from('\nhel', 'latin1'));
    expect(head?.first).toBe('HTTP/1.1 200 OK');
    expect(head?.headers).toEqual(['content-length', '5']);
    expect(head?.rest?.toString('latin1')).toBe('hel');
    // The next message starts afresh.
    expect(r.push(Buffer.from('HTTP/1.1 204 No Content\r\n\r\n', 'latin1'))?.rest?.length).toBe(0);
  });
});
