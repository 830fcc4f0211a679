/**
 * The built exporter (dist/, what `npx tracecar` runs): exports to a real receiver with the scope
 * version read from tracecar's package.json relative to the built module, and an idle exporter
 * (spans queued, a collector that is not there) never keeps the process alive. Skipped unless
 * dist/ is at least as new as the export sources (`npm test` builds first; a bare `vitest run`
 * after editing src/ would otherwise test stale code).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { startOtlpReceiver, type OtlpReceiver } from '../../helpers/otlp-receiver.js';

const run = promisify(execFile);
const packageVersion = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
const srcDirs = ['export', 'otlp'].map((d) => fileURLToPath(new URL(`../../../src/telemetry/${d}/`, import.meta.url)));
const distDirs = ['export', 'otlp'].map((d) => fileURLToPath(new URL(`../../../dist/telemetry/${d}/`, import.meta.url)));
const distExport = `${distDirs[0]}index.js`;

function distIsFresh(): boolean {
  if (!existsSync(distExport)) return false;
  return srcDirs.every((srcDir, i) => {
    const sources = readdirSync(srcDir).filter((f) => f.endsWith('.ts'));
    const newestSource = Math.max(...sources.map((f) => statSync(srcDir + f).mtimeMs));
    const built = sources.map((f) => `${distDirs[i]}${f.replace(/\.ts$/, '.js')}`);
    return built.every((f) => existsSync(f) && statSync(f).mtimeMs >= newestSource);
  });
}

const script = (endpoint: string, flush: boolean): string => `
import { createSpanExporter } from ${JSON.stringify(distExport)};
const e = createSpanExporter({
  otlp: { endpoint: ${JSON.stringify(endpoint)}, protocol: 'grpc', headers: {}, timeout: 2000, compression: 'none' },
  maxQueueSize: 100, maxExportBatchSize: 10, scheduledDelay: 60000,
  resource: { serviceName: 'dist-check', attributes: {} },
  onError: (err) => console.error('export error:', err.message),
});
const now = Date.now();
e.enqueue({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1,
  name: 'GET /dist', kind: 'server', startTime: now - 2, endTime: now, attributes: {}, events: [], links: [],
  status: { code: 'unset' }, service: 'dist-check', sampled: true });
${flush ? 'await e.shutdown(5000);' : ''}
console.log(JSON.stringify(e.stats()));
`;

describe.skipIf(!distIsFresh())('built exporter (dist/)', () => {
  let receiver: OtlpReceiver;
  afterAll(async () => receiver?.close());

  it('exports from the built modules', async () => {
    receiver = await startOtlpReceiver();
    const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script(receiver.endpoint, true)], {
      timeout: 20_000,
    });
    expect(stderr).toBe('');
    expect(JSON.parse(stdout)).toMatchObject({ exported: 1, dropped: 0 });
    const [span] = await receiver.waitForSpans(1);
    expect(span).toMatchObject({ name: 'GET /dist', traceId: '4bf92f3577b34da6a3ce929d0e0e4736', kind: 'server' });
    expect(span!.resource['service.name']).toBe('dist-check');
    // The scope version is read from tracecar's package.json, relative to the built module.
    expect(span!.scopeVersion).toBe(packageVersion);
  });

  it('an idle exporter (spans queued, no shutdown) does not keep the process alive', async () => {
    const started = Date.now();
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script('http://127.0.0.1:9', false)], {
      timeout: 20_000,
    });
    expect(JSON.parse(stdout)).toMatchObject({ queued: 1 });
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
