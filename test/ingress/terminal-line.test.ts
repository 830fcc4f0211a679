import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Writable } from 'node:stream';
import { request } from 'undici';
import { createLogger } from '../../src/log.js';
import { createTracecar, type Tracecar } from '../../src/tracecar.js';
import { startUpstream, testConfig, type Upstream } from '../helpers/harness.js';

describe('terminal line (pretty mode): one readable line per request with a link to its trace', () => {
  let app: Upstream;
  let tracecar: Tracecar;
  const out: string[] = [];
  beforeAll(async () => {
    app = await startUpstream((req, res) => {
      res.statusCode = req.url === '/boom' ? 503 : 200;
      res.end('x');
    });
    const stream = new Writable({
      write(chunk, _e, cb) {
        out.push(String(chunk));
        cb();
      },
    });
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
});
