/**
 * The vendored OTLP descriptor against the code opentelemetry-js generated from the official
 * opentelemetry-proto: bytes encoded by the generated code decode to the same values with ours.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeOtlpProtobuf, encodeOtlpResponse } from '../../src/admin/otlp/decode.js';
import { ExportTraceServiceRequest, ExportTraceServiceResponse } from '../helpers/otlp-proto.js';


const traceId = Buffer.from('0af7651916cd43dd8448eb211c80319c', 'hex');
const spanId = Buffer.from('b7ad6b7169203331', 'hex');
const parentId = Buffer.from('00f067aa0ba902b7', 'hex');

describe('vendored OTLP trace descriptor', () => {
  it('is what the generator derives from the generated opentelemetry-proto code', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tracecar-desc-'));
    const out = join(dir, 'd.json');
    execFileSync(process.execPath, ['test/helpers/admin-gen-otlp-descriptor.mjs', out], { stdio: 'pipe' });
    expect(readFileSync(out, 'utf8')).toBe(readFileSync('src/admin/otlp/trace-descriptor.json', 'utf8'));
  });

  it('decodes every field the generated encoder writes', () => {
    const request = ExportTraceServiceRequest.encode({
      resourceSpans: [
        {
          resource: {
            attributes: [
              { key: 'service.name', value: { stringValue: 'checkout' } },
              { key: 'service.version', value: { stringValue: '2.0.1' } },
              { key: 'host.cpus', value: { intValue: 8 } },
            ],
          },
          schemaUrl: 'https://opentelemetry.io/schemas/1.24.0',
          scopeSpans: [
            {
              scope: { name: 'my-lib', version: '1.0.0' },
              spans: [
                {
                  traceId,
                  spanId,
                  parentSpanId: parentId,
                  traceState: 'vendor=1',
                  name: 'GET /cart',
                  kind: 3,
                  startTimeUnixNano: '1700000000123456789',
                  endTimeUnixNano: '1700000000223456789',
                  attributes: [
                    { key: 's', value: { stringValue: 'text' } },
                    { key: 'b', value: { boolValue: true } },
                    { key: 'i', value: { intValue: '9007199254740991' } },
                    { key: 'neg', value: { intValue: -5 } },
                    { key: 'd', value: { doubleValue: 2.5 } },
                    { key: 'arr', value: { arrayValue: { values: [{ intValue: 1 }, { intValue: 2 }] } } },
                    { key: 'mixed', value: { arrayValue: { values: [{ intValue: 1 }, { stringValue: 'x' }] } } },
                    { key: 'kv', value: { kvlistValue: { values: [{ key: 'a', value: { stringValue: 'b' } }] } } },
                    { key: 'raw', value: { bytesValue: Buffer.from('hi') } },
                  ],
                  droppedAttributesCount: 1,
                  events: [{ timeUnixNano: '1700000000150000000', name: 'tracecar.chaos.delay', attributes: [{ key: 'ms', value: { intValue: 40 } }] }],
                  droppedEventsCount: 0,
                  links: [{ traceId, spanId: parentId, traceState: '', attributes: [{ key: 'l', value: { boolValue: false } }] }],
                  status: { code: 2, message: 'upstream reset' },
                },
              ],
            },
          ],
        },
      ],
    }).finish();

    const { spans, rejected } = decodeOtlpProtobuf(request);
    expect(rejected).toBe(0);
    expect(spans).toEqual([
      {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        parentSpanId: '00f067aa0ba902b7',
        traceState: 'vendor=1',
        traceFlags: 1,
        name: 'GET /cart',
        kind: 'client',
        startTime: 1700000000123.456,
        endTime: 1700000000223.456,
        attributes: {
          s: 'text',
          b: true,
          i: 9007199254740991,
          neg: -5,
          d: 2.5,
          arr: [1, 2],
          mixed: '[1,"x"]',
          kv: '{"a":"b"}',
          raw: Buffer.from('hi').toString('base64'),
        },
        events: [{ name: 'tracecar.chaos.delay', time: 1700000000150, attributes: { ms: 40 } }],
        links: [{ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: '00f067aa0ba902b7', attributes: { l: false } }],
        status: { code: 'error', message: 'upstream reset' },
        service: 'checkout',
        resource: { 'service.version': '2.0.1', 'host.cpus': 8 },
        scope: 'my-lib',
        sampled: true,
      },
    ]);
  });

  it('encodes an ExportTraceServiceResponse the generated decoder reads', () => {
    const bytes = encodeOtlpResponse('protobuf', { spans: [], rejected: 3, errorMessage: 'bad ids' }) as Uint8Array;
    const decoded = ExportTraceServiceResponse.decode(bytes);
    expect(Number(decoded.partialSuccess?.rejectedSpans)).toBe(3);
    expect(decoded.partialSuccess?.errorMessage).toBe('bad ids');
    expect((encodeOtlpResponse('protobuf', { spans: [], rejected: 0 }) as Uint8Array).length).toBe(0);
  });
});
