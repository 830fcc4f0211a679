// The rows of the bench table (issue 9). Every row is a proxy in front of bench/upstream.mjs;
// `id` is what BENCH_ROWS and --profile take. `spansPerSampled`: spans the row owes the OTLP sink
// per request the upstream saw with a sampled traceparent (0: the row does not export).
// HTTP/2 rows (`h2: true`, issue 12) sit in front of bench/h2-upstream.mjs, are loaded by h2load
// and are compared with `baseline` (a bare node:http2 proxy) instead of the undici one.
const TRACECAR = 'dist/cli/main.js';
const QUIET = ['--log-level', 'warn'];
const NO_ADMIN = ['--no-admin'];
const ADMIN = ['--admin-port', '0']; // the default listener and viewer store, on any free port

export const ROWS = [
  { id: 'bare', label: 'bare undici proxy (baseline)', script: 'bench/bare-proxy.mjs', args: ({ target }) => [target], spansPerSampled: 0 },
  { id: 'quiet', label: 'tracecar, no export, no admin, `--log-level warn`', script: TRACECAR, args: tracecar(NO_ADMIN, QUIET), spansPerSampled: 0 },
  { id: 'access-log', label: 'same, access log on (JSON lines to a pipe, the default off a TTY)', script: TRACECAR, args: tracecar(NO_ADMIN), spansPerSampled: 0, accessLog: true },
  { id: 'store', label: 'same, quiet, admin + viewer store on (the default)', script: TRACECAR, args: tracecar(ADMIN, QUIET), spansPerSampled: 0 },
  { id: 'otlp', label: 'tracecar, OTLP gRPC export at 100%, quiet, no admin', script: TRACECAR, args: tracecar(NO_ADMIN, QUIET, true), spansPerSampled: 1 },
  {
    id: 'otlp-1pct',
    label: 'same, 1% sampling',
    script: TRACECAR,
    args: tracecar(NO_ADMIN, QUIET, true),
    env: { OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.01' },
    spansPerSampled: 1,
  },
  { id: 'shipped', label: 'tracecar as shipped (export + store + access log, stdout to a pipe)', script: TRACECAR, args: tracecar(ADMIN, [], true), spansPerSampled: 1, accessLog: true },
  { id: 'sdk-1', label: 'undici + OTel JS SDK, 1 SERVER span, BatchSpanProcessor, OTLP gRPC', script: 'bench/sdk-proxy.mjs', args: ({ target, otlp }) => [target, otlp, '1'], spansPerSampled: 1, sdk: true },
  { id: 'sdk-2', label: 'undici + OTel JS SDK, SERVER + CLIENT spans', script: 'bench/sdk-proxy.mjs', args: ({ target, otlp }) => [target, otlp, '2'], spansPerSampled: 2, sdk: true },
  {
    // Opt-in (`optional`): run only when BENCH_ROWS names it; never in the default table.
    id: 'raw-probe',
    label: 'probe: HTTP/1.1 on raw sockets with the quiet row\'s tracing work (bench/raw-probe-proxy.mjs)',
    script: 'bench/raw-probe-proxy.mjs',
    args: ({ target }) => [target],
    spansPerSampled: 0,
    optional: true,
  },
  {
    id: 'http-raw-upstream',
    label: 'probe: the bare proxy with its upstream side on raw sockets instead of undici (bench/http-raw-upstream-probe.mjs)',
    script: 'bench/http-raw-upstream-probe.mjs',
    args: ({ target }) => [target],
    spansPerSampled: 0,
    optional: true,
  },
  {
    id: 'h2-bare',
    label: 'HTTP/2: bare node:http2 proxy (baseline of the h2 rows), h2c both sides',
    script: 'bench/h2-bare-proxy.mjs',
    args: ({ h2target }) => [h2target],
    spansPerSampled: 0,
    h2: true,
    baseline: 'h2-bare',
  },
  {
    id: 'h2',
    label: 'HTTP/2: tracecar, h2c caller → h2c app, no export, no admin, `--log-level warn` (× h2-bare)',
    script: TRACECAR,
    args: ({ h2target }) => ['--target', h2target.replace('http://', 'h2c://'), '--port', '127.0.0.1:0', ...NO_ADMIN, ...QUIET],
    spansPerSampled: 0,
    h2: true,
    baseline: 'h2-bare',
  },
];

function tracecar(admin, log = [], otlp = false) {
  return ({ target, otlp: endpoint }) => ['--target', target, '--port', '127.0.0.1:0', ...admin, ...log, ...(otlp ? ['--otlp-endpoint', endpoint] : [])];
}

/** BENCH_ROWS=id,id → those rows in table order, always with the baseline each needs (bare, h2-bare). */
export function selectRows(filter) {
  if (!filter) return ROWS.filter((r) => !r.optional);
  const ids = new Set(filter.split(',').map((s) => s.trim()).filter(Boolean));
  const unknown = [...ids].filter((id) => !ROWS.some((r) => r.id === id));
  if (unknown.length) throw new Error(`unknown row(s) ${unknown.join(', ')}; rows: ${ROWS.map((r) => r.id).join(', ')}`);
  for (const id of [...ids]) ids.add(ROWS.find((r) => r.id === id).baseline ?? 'bare');
  return ROWS.filter((r) => ids.has(r.id));
}

/** The environment of a row: no inherited OTEL_* / TRACECAR_* settings, its own service.name. */
export function rowEnv(row) {
  const env = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^(OTEL_|TRACECAR_)/.test(k)) env[k] = v;
  return { ...env, OTEL_SERVICE_NAME: `bench-${row.id}`, ...row.env };
}
