import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { request } from 'undici';
import { createLogger, type Logger } from '../../src/log.js';
import { createAccessLog } from '../../src/telemetry/access-log.js';
import { Hop } from '../../src/telemetry/hop.js';
import { createTracecar, type Tracecar } from '../../src/tracecar.js';
import { startUpstream, testConfig, type Upstream } from '../helpers/harness.js';

/** A stream that pushes each chunk (one pretty line) onto `lines`. */
function linesInto(lines: string[]): Writable {
  return new Writable({
    write(chunk, _e, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
}

describe('terminal line (pretty mode): one readable line per request with a link to its trace', () => {
  let app: Upstream;
  let tracecar: Tracecar;
  const out: string[] = [];
  beforeAll(async () => {
    app = await startUpstream((req, res) => {
      res.statusCode = req.url === '/boom' ? 503 : 200;
      res.end('x');
    });
    const stream = linesInto(out);
    tracecar = createTracecar(testConfig({ ingress: { target: app.url }, export: { console: 'pretty' } }), { logger: createLogger({ level: 'info', pretty: true, stream }) });
    await tracecar.listen();
  });
  afterAll(async () => {
    await tracecar.close();
    await app.close();
  });

  it('names method, path (no query), status, duration, and links the trace in the viewer', async () => {
    const base = `http://127.0.0.1:${tracecar.addresses!.ingress.port}`;
    const res = await request(`${base}/orders/7?token=secret`);
    await res.body.text();
    const traceId = String(res.headers.traceresponse).split('-')[1];
    const line = out.find((l) => l.includes('/orders/7'))!;
    expect(line).toMatch(new RegExp(`^→ GET /orders/7 200 +\\d+\\.\\dms {2}${tracecar.addresses!.viewerUrl!.replace(/[/.]/g, '\\$&')}#/trace/${traceId}\\n$`));
    expect(out.join('')).not.toContain('secret');
    const bad = await request(`${base}/boom`);
    await bad.body.text();
    expect(out.find((l) => l.includes('/boom'))).toMatch(/^→ GET \/boom 503 /);
  });

  it('escapes request text in the line: C1/C0 controls in a path or method cannot repaint or split it', () => {
    // Node's HTTP/1 parser already refuses such bytes in a request target (400); this keeps the
    // line safe whatever a listener lets through (an HTTP/2 :path, a lenient parser).
    const lines: string[] = [];
    const stream = linesInto(lines);
    const hop = new Hop('ingress', 'server', 'GE\x1bT', 1_000);
    Object.assign(hop, { traceId: 'a'.repeat(32), path: '/evil\x9b2J\x85fake\u2028x\\y', status: 200, endTime: 1_001 });
    createAccessLog(createLogger({ level: 'info', pretty: true, stream }), 'pretty', () => undefined, false).write(hop);
    const line = lines.join('');
    expect(line).toContain('GE\\x1bT /evil\\x9b2J\\x85fake\\u2028x\\\\y 200');
    expect(line.slice(0, -1)).not.toMatch(/[\x00-\x1f\x7f-\x9f\u2028\u2029]/);
  });

  it('pretty log lines escape controls in logged fields; a message keeps its own line breaks', () => {
    const lines: string[] = [];
    const stream = linesInto(lines);
    const logger: Logger = createLogger({ level: 'info', pretty: true, stream });
    logger.warn({ path: '/a\x1b[2J\rb', n: 1 }, 'two\nlines \x1b]0;title\x07');
    expect(lines.join('')).toBe('WARN two\nlines \\x1b]0;title\\x07  path=/a\\x1b[2J\\x0db n=1\n');
  });
});
