// Regenerates src/admin/otlp/trace-descriptor.json, the protobufjs JSON descriptor tracecar uses to
// decode OTLP/HTTP protobuf at run time.
//
// Source: the protobufjs static code that @opentelemetry/otlp-transformer 0.52.1 generated from the
// official opentelemetry-proto definitions (Apache-2.0), installed here as the dev dependency
// `otlp-proto-0.52` (node_modules/otlp-proto-0.52/build/src/generated/root.js). Each message's
// `encode` function names every field's number, wire type and type; JSDoc names enums and oneofs.
// The descriptor keeps only the messages OTLP trace export needs (trace, common, resource, collector).
//
// Run: node test/helpers/admin-gen-otlp-descriptor.mjs [output path]
// test/admin/otlp-descriptor.test.ts checks the result against the generated code.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ROOT_JS = fileURLToPath(new URL('../../node_modules/otlp-proto-0.52/build/src/generated/root.js', import.meta.url));
const OUT = process.argv[2] ?? fileURLToPath(new URL('../../src/admin/otlp/trace-descriptor.json', import.meta.url));

const WANTED = [
  'opentelemetry.proto.common.v1.AnyValue',
  'opentelemetry.proto.common.v1.ArrayValue',
  'opentelemetry.proto.common.v1.KeyValueList',
  'opentelemetry.proto.common.v1.KeyValue',
  'opentelemetry.proto.common.v1.InstrumentationScope',
  'opentelemetry.proto.resource.v1.Resource',
  'opentelemetry.proto.trace.v1.TracesData',
  'opentelemetry.proto.trace.v1.ResourceSpans',
  'opentelemetry.proto.trace.v1.ScopeSpans',
  'opentelemetry.proto.trace.v1.Span',
  'opentelemetry.proto.trace.v1.Span.Event',
  'opentelemetry.proto.trace.v1.Span.Link',
  'opentelemetry.proto.trace.v1.Status',
  'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
  'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
  'opentelemetry.proto.collector.trace.v1.ExportTracePartialSuccess',
];
const ENUMS = ['opentelemetry.proto.trace.v1.Span.SpanKind', 'opentelemetry.proto.trace.v1.Status.StatusCode'];

const src = readFileSync(ROOT_JS, 'utf8');

function encodeBody(fqn) {
  const marker = `@function encode\n`;
  let at = 0;
  for (;;) {
    at = src.indexOf(marker, at);
    if (at < 0) throw new Error(`no encode function for ${fqn}`);
    const memberLine = src.slice(at, src.indexOf('\n', at + marker.length + 1) + 1);
    const next = src.slice(at + marker.length, src.indexOf('\n', at + marker.length));
    if (next.trim() === `* @memberof ${fqn}`) {
      const start = src.indexOf('.encode = function encode(message, writer) {', at);
      const end = src.indexOf('return writer;', start);
      return src.slice(start, end);
    }
    at += memberLine.length;
  }
}

function jsdocProps(fqn) {
  const short = fqn.split('.').pop();
  const parent = fqn.split('.').slice(0, -1).join('.');
  const head = `* Properties of a${/^[AEIOU]/.test(short) ? 'n' : ''} ${short}.\n`;
  let at = 0;
  for (;;) {
    at = src.indexOf(head, at);
    if (at < 0) throw new Error(`no JSDoc for ${fqn}`);
    const block = src.slice(at, src.indexOf('*/', at));
    if (block.includes(`@memberof ${parent}\n`)) {
      const props = {};
      for (const m of block.matchAll(/@property \{([^}]+)\} \[(\w+)\]/g)) props[m[2]] = m[1];
      return props;
    }
    at += head.length;
  }
}

function oneofs(fqn) {
  const short = fqn.split('.').pop();
  const out = {};
  const re = new RegExp(`Object\\.defineProperty\\(${short}\\.prototype, "(\\w+)", \\{\\s*get: \\$util\\.oneOfGetter\\(\\$oneOfFields = \\[([^\\]]+)\\]`, 'g');
  for (const m of src.matchAll(re)) out[m[1]] = { oneof: [...m[2].matchAll(/"(\w+)"/g)].map((x) => x[1]) };
  return Object.keys(out).length ? out : undefined;
}

function enumValues(fqn) {
  const short = fqn.split('.').pop();
  const start = src.indexOf(`.${short} = (function () {`);
  const body = src.slice(start, src.indexOf('return values;', start));
  const values = {};
  for (const m of body.matchAll(/values\[valuesById\[(\d+)\] = "(\w+)"\] = (\d+);/g)) values[m[2]] = Number(m[3]);
  return { values };
}

function messageFields(fqn) {
  const body = encodeBody(fqn);
  const props = jsdocProps(fqn);
  const fields = {};
  const scalar = /writer\.uint32\(\/\* id (\d+), wireType \d =\*\/ \d+\)\.(\w+)\(message\.(\w+)(\[i\])?\)/g;
  for (const m of body.matchAll(scalar)) {
    const [, id, method, name, idx] = m;
    let type = method;
    const doc = props[name] ?? '';
    const enumType = ENUMS.find((e) => doc.startsWith(e + '|') || doc === e);
    if (method === 'int32' && enumType) type = enumType;
    fields[name] = { type, id: Number(id), ...(idx ? { rule: 'repeated' } : {}) };
  }
  const nested = /\$root\.([\w.]+)\.encode\(message\.(\w+)(\[i\])?, writer\.uint32\(\/\* id (\d+), wireType 2 =\*\/ \d+\)\.fork\(\)\)/g;
  for (const m of body.matchAll(nested)) {
    const [, type, name, idx, id] = m;
    fields[name] = { type, id: Number(id), ...(idx ? { rule: 'repeated' } : {}) };
  }
  for (const name of Object.keys(props)) {
    if (!(name in fields)) throw new Error(`${fqn}.${name}: field not found in encode()`);
  }
  return Object.fromEntries(Object.entries(fields).sort((a, b) => a[1].id - b[1].id));
}

// Build the nested namespace tree protobufjs' Root.fromJSON expects.
const root = { nested: {} };
function node(path) {
  let cur = root;
  for (const part of path) {
    cur.nested ??= {};
    cur = cur.nested[part] ??= {};
  }
  return cur;
}
for (const fqn of WANTED) {
  const n = node(fqn.split('.'));
  n.fields = messageFields(fqn);
  const o = oneofs(fqn);
  if (o) n.oneofs = o;
}
for (const fqn of ENUMS) Object.assign(node(fqn.split('.')), enumValues(fqn));

const out = {
  $comment: [
    'OpenTelemetry protocol (OTLP) trace messages as a protobufjs JSON descriptor.',
    'Derived mechanically by test/helpers/admin-gen-otlp-descriptor.mjs from the protobufjs code that',
    '@opentelemetry/otlp-transformer 0.52.1 generated from the official opentelemetry-proto definitions.',
    'Copyright The OpenTelemetry Authors. Licensed under the Apache License, Version 2.0',
    '(http://www.apache.org/licenses/LICENSE-2.0); see NOTICE in this folder.',
  ],
  ...root,
};
writeFileSync(OUT, JSON.stringify(out, null, 1) + '\n');
console.log(`wrote ${OUT}`);
