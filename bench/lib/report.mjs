// Turns the samples of a run into the table, the issue-9 targets (met / not met) and RESULTS.md.
// Ratios are taken per round against the baseline of the same round, then the median over rounds;
// the middle half of the per-round ratios (25th–75th percentile) is shown beside each median, so a
// target missed or met by less than the run's own spread reads as such.

export const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** The q-quantile (0–1) of the finite values, interpolated between neighbours (NaN when none). */
export const quantile = (xs, q) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const at = (s.length - 1) * q;
  const lo = Math.floor(at);
  return s[lo] + (s[Math.min(lo + 1, s.length - 1)] - s[lo]) * (at - lo);
};

/** Median and interquartile range of per-round values: { median, q1, q3 }. */
export const spread = (xs) => ({ median: median(xs), q1: quantile(xs, 0.25), q3: quantile(xs, 0.75) });

/**
 * Per-row medians and same-round ratios; `samples[id][round]` as recorded by the harness. A row's
 * ratios are to its `baseline` row (the HTTP/2 rows: h2-bare), else to the bare undici proxy.
 */
export function summarise(rows, samples, memory) {
  const base = samples.bare;
  const baseOf = (id) => samples[rows.find((r) => r.id === id)?.baseline ?? 'bare'] ?? [];
  const perRound = (id, f) => samples[id].map((s, i) => (baseOf(id)[i] ? f(s, baseOf(id)[i]) : NaN));
  const out = {};
  for (const row of rows) {
    const ss = samples[row.id];
    const sum = (k) => ss.reduce((a, s) => a + s[k], 0);
    out[row.id] = {
      id: row.id,
      label: row.label,
      rps: median(ss.map((s) => s.requests / s.seconds)),
      p50: median(ss.map((s) => s.p50)),
      p99: median(ss.map((s) => s.p99)),
      cpuUs: median(ss.map((s) => s.cpuUs)),
      cpuRatio: median(perRound(row.id, (s, b) => s.cpuUs / b.cpuUs)),
      cpuRatioSpread: spread(perRound(row.id, (s, b) => s.cpuUs / b.cpuUs)),
      overheadUs: median(perRound(row.id, (s, b) => s.cpuUs - b.cpuUs)),
      p99Ratio: median(perRound(row.id, (s, b) => s.p99 / b.p99)),
      p99RatioSpread: spread(perRound(row.id, (s, b) => s.p99 / b.p99)),
      served: sum('served'),
      spans: sum('spans'),
      owed: sum('owed'),
      errorSpans: sum('errorSpans'),
      errors: sum('errors') + sum('non2xx'),
      accessLines: sum('accessLines'),
      exports: row.spansPerSampled > 0,
      spansPerRequest: ss.length ? sum('spans') / Math.max(1, sum('served')) : 0,
      idleRss: memory[row.id]?.idle ?? NaN,
      peakRss: memory[row.id]?.peak ?? NaN,
      h2: row.h2 === true,
      baseline: row.baseline ?? 'bare',
    };
  }
  for (const r of Object.values(out)) r.peakRatio = r.peakRss / (out[r.baseline]?.peakRss ?? NaN);
  // Increments of one feature over the quiet row, per round, in units of the baseline.
  const delta = (id) =>
    samples[id] && samples.quiet && base ? spread(samples[id].map((s, i) => (s.cpuUs - samples.quiet[i].cpuUs) / base[i].cpuUs)) : spread([]);
  const accessLog = delta('access-log');
  const store = delta('store');
  return { rows: out, accessLogAdds: accessLog.median, accessLogAddsSpread: accessLog, storeAdds: store.median, storeAddsSpread: store };
}

const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const x2 = (x) => (Number.isFinite(x) ? `${x.toFixed(2)}×` : '–');
const plus = (x) => `${x >= 0 ? '+' : ''}${x.toFixed(2)}×`;
/** A ratio's median with its interquartile range, when there is one: `1.32× (1.21–1.40)`. */
const x2iqr = (x, s) => (s && Number.isFinite(s.q1) && s.q3 > s.q1 ? `${x2(x)} (${s.q1.toFixed(2)}–${s.q3.toFixed(2)})` : x2(x));
const plusIqr = (x, s) => (s && Number.isFinite(s.q1) && s.q3 > s.q1 ? `${plus(x)} (${plus(s.q1)} to ${plus(s.q3)})` : plus(x));

export function table(summary) {
  const lines = [
    '| configuration | req/s | p50 ms | p99 ms | p99 × bare | CPU µs/req | CPU × bare | spans delivered / owed | idle RSS MiB | peak RSS MiB | peak × bare |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const r of Object.values(summary.rows)) {
    const spans = r.exports ? `${r.spans} / ${r.owed}${r.errorSpans ? ` (${r.errorSpans} errors)` : ''}` : '–';
    lines.push(
      `| ${r.label} | ${f(r.rps, 0)} | ${f(r.p50, 2)} | ${f(r.p99, 2)} | ${x2iqr(r.p99Ratio, r.p99RatioSpread)} | ${f(r.cpuUs)} | ${x2iqr(r.cpuRatio, r.cpuRatioSpread)} | ${spans} | ${f(r.idleRss, 0)} | ${f(r.peakRss, 0)} | ${x2(r.peakRatio)} |`,
    );
  }
  return lines.join('\n');
}

/**
 * The targets of issue 9, each { target, measured, met } with met = true | false | null (not
 * measured in this run).
 */
export function targets(summary, startup, steady) {
  const R = summary.rows;
  const out = [];
  const add = (target, measured, met) => out.push({ target, measured, met });
  const ratio = (id, limit, what) => {
    const r = R[id];
    add(`${what}: CPU ≤ ${limit.toFixed(2)}× bare`, r ? x2iqr(r.cpuRatio, r.cpuRatioSpread) : 'row not run', r ? r.cpuRatio <= limit : null);
  };
  const otlp = R.otlp;
  ratio('otlp', 1.2, 'OTLP gRPC export at 100%');
  add('OTLP gRPC export at 100%: stretch CPU ≤ 1.10× bare', otlp ? x2iqr(otlp.cpuRatio, otlp.cpuRatioSpread) : 'row not run', otlp ? otlp.cpuRatio <= 1.1 : null);
  add('OTLP gRPC export at 100%: p99 ≤ 1.3× bare', otlp ? x2iqr(otlp.p99Ratio, otlp.p99RatioSpread) : 'row not run', otlp ? otlp.p99Ratio <= 1.3 : null);
  for (const r of Object.values(R)) {
    if (!r.exports || r.id.startsWith('sdk') || r.h2) continue;
    // Spans of requests the load generator abandoned when it stopped are ERROR spans: those of
    // unsampled requests (kept by the error tail-keep rule) or of requests that never reached the
    // upstream are delivered without being owed. Everything owed must arrive, and nothing else.
    add(
      `${r.id}: every span delivered (owed ≤ sink count ≤ owed + error spans)`,
      `${r.spans} / ${r.owed}${r.errorSpans ? ` (${r.errorSpans} errors)` : ''}`,
      r.spans >= r.owed && r.spans <= r.owed + r.errorSpans,
    );
  }
  ratio('shipped', 1.35, 'As shipped (export + store + access log)');
  ratio('quiet', 1.08, 'No export, no admin, quiet');
  ratio('otlp-1pct', 1.1, '1% sampling with export');
  add('Access log adds ≤ 0.06× on its own', Number.isFinite(summary.accessLogAdds) ? plusIqr(summary.accessLogAdds, summary.accessLogAddsSpread) : 'rows not run', Number.isFinite(summary.accessLogAdds) ? summary.accessLogAdds <= 0.06 : null);
  add('Viewer store adds ≤ 0.06× on its own', Number.isFinite(summary.storeAdds) ? plusIqr(summary.storeAdds, summary.storeAddsSpread) : 'rows not run', Number.isFinite(summary.storeAdds) ? summary.storeAdds <= 0.06 : null);

  // Cheaper than the stock SDK per span emitted: a row's CPU over the baseline, divided by the
  // spans it emits per request (at least one: a row that samples less still traces every request),
  // against the same figure of each anchor.
  const perSpan = (r) => r.overheadUs / Math.max(1, Math.round(r.spansPerRequest));
  const anchors = ['sdk-1', 'sdk-2'].map((id) => R[id]).filter(Boolean);
  for (const r of Object.values(R)) {
    if (r.id === 'bare' || r.id.startsWith('sdk') || r.h2) continue;
    if (anchors.length < 2) {
      add(`${r.id}: cheaper per span than the stock SDK (1 and 2 spans)`, 'anchor rows not run', null);
      continue;
    }
    const mine = perSpan(r);
    const theirs = anchors.map(perSpan);
    add(
      `${r.id}: cheaper per span than the stock SDK (1 and 2 spans)`,
      `${f(mine)} µs vs ${theirs.map((t) => f(t)).join(' / ')} µs over bare`,
      theirs.every((t) => mine < t),
    );
  }
  for (const r of Object.values(R)) {
    if (r.id === 'bare' || r.id.startsWith('sdk') || r.h2) continue;
    add(`${r.id}: peak RSS ≤ 1.25× bare`, `${f(r.peakRss, 0)} MiB = ${x2(r.peakRatio)}`, r.peakRatio <= 1.25);
  }
  const st = (k) => (startup?.[k]?.length ? median(startup[k]) : NaN);
  add('Idle RSS ≤ 70 MiB (default config: admin + viewer + access log, just started)', startup ? `${f(st('defaultIdleRss'), 0)} MiB` : 'not measured', startup ? st('defaultIdleRss') <= 70 : null);
  add('Idle RSS ≤ 70 MiB (as shipped: the default + OTLP export, just started)', startup ? `${f(st('idleRss'), 0)} MiB` : 'not measured', startup ? st('idleRss') <= 70 : null);
  add(
    'Steady 1,000 req/s for 2 min (export + store): RSS settles ≤ 150 MiB',
    steady ? `${f(steady.settled, 0)} MiB at ${f(steady.achievedRate, 0)} req/s for ${steady.seconds} s` : 'not run (npm run bench -- --rss-steady)',
    steady ? steady.settled <= 150 : null,
  );
  add('`tracecar --version` ≤ 150 ms', startup ? `${f(st('versionMs'), 0)} ms` : 'not measured', startup ? st('versionMs') <= 150 : null);
  add('Ingress accepts ≤ 400 ms after launch (as shipped)', startup ? `${f(st('listenMs'), 0)} ms` : 'not measured', startup ? st('listenMs') <= 400 : null);
  add('Ingress accepts ≤ 400 ms after launch (default config)', startup ? `${f(st('defaultListenMs'), 0)} ms` : 'not measured', startup ? st('defaultListenMs') <= 400 : null);
  return out;
}

export function targetsTable(list) {
  const mark = (met) => (met === null ? 'not measured' : met ? '**met**' : 'not met');
  return ['| target | measured | |', '| --- | --- | --- |', ...list.map((t) => `| ${t.target} | ${t.measured} | ${mark(t.met)} |`)].join('\n');
}

/** The start-up figures in one line: medians with [min–max]. */
export function describeStartup(startup) {
  const m = (k, unit) => {
    const xs = startup[k] ?? [];
    if (!xs.length) return 'not measured';
    return `${f(median(xs), 0)} ${unit} [${f(Math.min(...xs), 0)}–${f(Math.max(...xs), 0)}]`;
  };
  return (
    `\`tracecar --version\` ${m('versionMs', 'ms')} wall; ingress accepting a TCP connection after launch: ` +
    `default config (admin + viewer + access log) ${m('defaultListenMs', 'ms')}, as shipped (+ OTLP export) ${m('listenMs', 'ms')}; ` +
    `idle RSS 1 s later: default ${m('defaultIdleRss', 'MiB')}, as shipped ${m('idleRss', 'MiB')}`
  );
}

export function markdown({ machine, command, config, summary, targetList, startup, steady }) {
  const lines = [
    '# Benchmark results',
    '',
    `Generated by \`${command}\` on ${machine.date}.`,
    '',
    `- Machine: ${machine.cpus}× ${machine.cpuModel}, ${machine.memGiB} GiB, ${machine.os}; Node ${machine.node}.`,
    `- Load: ${config.loadDescription}; ${config.rounds} round(s), rows interleaved round-robin (the starting row rotates each round); medians over rounds.`,
    `- Pinning: ${config.pinDescription}.`,
    `- Load average at start / end: ${machine.loadStart} / ${machine.loadEnd}${machine.note ? ` — ${machine.note}` : ''}.`,
    '',
    'CPU is utime + stime of the whole proxy process (all threads, /proc/<pid>/stat) from the start of a',
    'measurement until its spans reached the sink, per request the upstream served. Ratios are per',
    'round against the bare proxy of the same round: the median over rounds, and in brackets the middle',
    "half of the per-round ratios (25th–75th percentile), the run's own noise. Spans are counted by an",
    'OTLP/gRPC sink decoding with the official protobuf code; "owed" = requests the upstream saw',
    'with a sampled traceparent × spans per request; spans of requests abandoned by the load',
    'generator when it stops are ERROR spans, delivered but not always owed (counted in brackets).',
    ...(Object.values(summary.rows).some((r) => r.h2)
      ? [
          '',
          'HTTP/2 rows (issue 12): h2load (`-c` connections × 10 concurrent streams, h2c with prior knowledge)',
          'in front of an h2c app (bench/h2-upstream.mjs); their "× bare" columns are ratios to **h2-bare**, a',
          'bare node:http2 proxy (bench/h2-bare-proxy.mjs) measured in the same rounds, and their p50/p99 come',
          "from h2load's per-request log.",
        ]
      : []),
    '',
    table(summary),
    '',
    '## Targets (issue 9)',
    '',
    targetsTable(targetList),
    '',
  ];
  if (startup) {
    lines.push(
      '## Start-up',
      '',
      `Median of ${startup.versionMs.length} launches [min–max]: ${describeStartup(startup)}.`,
      '',
    );
  }
  if (steady) {
    lines.push(
      '## Steady-rate RSS',
      '',
      `${steady.row}: ${steady.rate} req/s offered (${f(steady.achievedRate, 0)} achieved) for ${steady.seconds} s, autocannon \`overallRate\`. RSS sampled every second; settled = median of the last quarter: **${f(steady.settled, 0)} MiB** (peak ${f(steady.peak, 0)} MiB; spans ${steady.spans} / ${steady.owed}).`,
      '',
      `RSS every 10 s (MiB): ${steady.series.join(', ')}`,
      '',
    );
  }
  return lines.join('\n');
}
