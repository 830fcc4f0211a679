// Summary of a V8 .cpuprofile (as written by node --cpu-prof): self time per function and per
// package, so `--profile ROW` prints where the time goes before anyone opens a profiler UI.
import { readFileSync } from 'node:fs';

/** Where a script lives, coarsely: an npm package, a node: internal, tracecar's own dist, or the bench. */
export function packageOf(url) {
  if (!url) return '(native / V8)';
  if (url.startsWith('node:')) return 'node: internals';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1];
  if (url.includes('/dist/')) return `tracecar ${url.slice(url.indexOf('/dist/') + 6).split('/').slice(0, -1).join('/') || '.'}`;
  if (url.includes('/bench/')) return 'bench';
  return url;
}

/** { totalMs, functions: [{name, where, ms, pct}], packages: [{name, ms, pct}] }, idle excluded. */
export function summariseProfile(file, top = 25) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    const id = p.samples[i];
    self.set(id, (self.get(id) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const fns = new Map();
  const pkgs = new Map();
  let total = 0;
  for (const [id, us] of self) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    if (functionName === '(idle)') continue;
    total += us;
    const short = url ? `${url.replace(/^.*\/(node_modules|dist|bench)\//, '$1/')}:${lineNumber + 1}` : '';
    const key = `${functionName || '(anonymous)'}\t${short}`;
    fns.set(key, (fns.get(key) ?? 0) + us);
    const pkg = functionName.startsWith('(') && !url ? functionName : packageOf(url);
    pkgs.set(pkg, (pkgs.get(pkg) ?? 0) + us);
  }
  const rank = (m) =>
    [...m]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([k, us]) => ({ key: k, ms: us / 1000, pct: (100 * us) / total }));
  return {
    totalMs: total / 1000,
    functions: rank(fns).map(({ key, ms, pct }) => {
      const [name, where] = key.split('\t');
      return { name, where, ms, pct };
    }),
    packages: rank(pkgs).map(({ key, ms, pct }) => ({ name: key, ms, pct })),
  };
}

export function formatProfile(file, s) {
  const lines = [`${file}: ${s.totalMs.toFixed(0)} ms of samples (idle excluded)`, '  self time by function:'];
  for (const fn of s.functions) lines.push(`    ${fn.pct.toFixed(1).padStart(5)}%  ${fn.ms.toFixed(0).padStart(6)} ms  ${fn.name}  ${fn.where}`);
  lines.push('  self time by package:');
  for (const pk of s.packages.slice(0, 15)) lines.push(`    ${pk.pct.toFixed(1).padStart(5)}%  ${pk.ms.toFixed(0).padStart(6)} ms  ${pk.name}`);
  return lines.join('\n');
}
