// A minimal OTLP/HTTP JSON trace receiver for deploy/container-test.sh: independent of tracecar's own
// code, it appends one JSON line per received span to OUTFILE (trace id, span id, parent, name, kind,
// service.name). Usage: node otlp-sink.mjs PORT OUTFILE   (listens on 127.0.0.1 only)
import { appendFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';

const [port, outFile] = [Number(process.argv[2]), process.argv[3]];
const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'];
writeFileSync(outFile, '');

const server = createServer((req, res) => {
  if (req.method !== 'POST' || req.url !== '/v1/traces' || !String(req.headers['content-type']).startsWith('application/json')) {
    req.resume();
    res.writeHead(404).end();
    return;
  }
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let body;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' }).end('{"message":"invalid JSON"}');
      return;
    }
    const lines = [];
    for (const rs of body.resourceSpans ?? []) {
      const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue;
      for (const ss of rs.scopeSpans ?? []) {
        for (const s of ss.spans ?? []) {
          lines.push(JSON.stringify({ traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined, name: s.name, kind: KINDS[s.kind] ?? s.kind, service }));
        }
      }
    }
    if (lines.length) appendFileSync(outFile, `${lines.join('\n')}\n`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
  });
});
server.listen(port, '127.0.0.1', () => console.error(`otlp-sink on http://127.0.0.1:${port}/v1/traces → ${outFile}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => server.close(() => process.exit(0)));
