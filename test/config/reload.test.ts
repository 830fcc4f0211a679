import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { loadConfig, loadConfigText } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/problems.js';
import { restartRequired } from '../../src/config/restart.js';
import type { TracecarConfig } from '../../src/config/types.js';
import { watchConfig, type ConfigWatcher } from '../../src/config/watch.js';
import { tempDir } from './helpers.js';
import { sleep, waitFor } from '../helpers/wait.js';

const tmp = tempDir();

/** Replace the file the way editors and kubectl do: write a sibling, rename over. */
function replaceAtomically(file: string, text: string): void {
  const temp = `${file}.tmp-${process.hrtime.bigint()}`;
  writeFileSync(temp, text);
  renameSync(temp, file);
}

let watchers: ConfigWatcher[] = [];
afterEach(() => {
  for (const w of watchers) w.close();
  watchers = [];
});

function start(name: string, text: string) {
  const file = tmp.write(name, text);
  let current = loadConfig({ file, env: {} });
  const changes: Array<{ next: TracecarConfig; prev: TracecarConfig }> = [];
  const errors: unknown[] = [];
  let loads = 0;
  const watcher = watchConfig(file, {
    initial: current,
    debounceMs: 50,
    load: () => {
      loads++;
      return loadConfig({ file, env: {} });
    },
    onChange: (next, prev) => {
      changes.push({ next, prev });
      current = next;
    },
    onError: (err) => errors.push(err),
  });
  watchers.push(watcher);
  return { file, current: () => current, changes, errors, watcher, loads: () => loads };
}

describe('hot reload', () => {
  test('a valid change applies: onChange(next, prev) and the new config is installed', async () => {
    const w = start('good.yaml', 'log: { level: info }\n');
    const before = w.current();
    replaceAtomically(w.file, 'log: { level: debug }\n');
    await waitFor(() => w.changes.length === 1, 5000, 'the watcher\'s change');
    expect(w.changes[0]!.prev).toBe(before);
    expect(w.changes[0]!.next.log.level).toBe('debug');
    expect(w.current().log.level).toBe('debug');
    expect(w.errors).toEqual([]);
  });

  test('an in-place write (no rename) is seen too', async () => {
    const w = start('inplace.yaml', 'log: { level: info }\n');
    writeFileSync(w.file, 'log: { level: warn }\n');
    await waitFor(() => w.changes.length === 1, 5000, 'the watcher\'s change');
    expect(w.current().log.level).toBe('warn');
  });

  test('an invalid file is reported with its problems and the last good config stays', async () => {
    const w = start('bad.yaml', 'sampling: { default: { ratio: 0.5 } }\n');
    const good = w.current();
    replaceAtomically(w.file, 'sampling:\n  default: { ratio: 5 }\n');
    await waitFor(() => w.errors.length === 1, 5000, 'the watcher\'s error');
    const err = w.errors[0] as ConfigError;
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.code).toBe('TRC_ERR_CONFIG_INVALID');
    expect(err.message).toBe(`${w.file}:2:21  sampling.default.ratio: 5 is out of range (expected a ratio from 0 to 1, or a percentage like "10%")`);
    expect(w.changes).toEqual([]);
    expect(w.current()).toBe(good);

    // fixing the file applies the fix, relative to the last good config
    replaceAtomically(w.file, 'sampling: { default: { ratio: 0.25 } }\n');
    await waitFor(() => w.changes.length === 1, 5000, 'the watcher\'s change');
    expect(w.changes[0]!.prev).toBe(good);
    expect(w.current().sampling.default.ratio).toBe(0.25);
  });

  test('a YAML syntax error is reported the same way', async () => {
    const w = start('syntax.yaml', 'log: { level: info }\n');
    replaceAtomically(w.file, 'log: { level: "info }\n');
    await waitFor(() => w.errors.length === 1, 5000, 'the watcher\'s error');
    expect((w.errors[0] as ConfigError).code).toBe('TRC_ERR_CONFIG_PARSE');
    expect(w.current().log.level).toBe('info');
  });

  test('a burst of writes gives one reload with the last content', async () => {
    const w = start('burst.yaml', 'log: { level: info }\n');
    const levels = ['debug', 'warn', 'error', 'trace', 'fatal', 'debug', 'warn', 'error'];
    // Each write fires its own fs events; without the debounce every one would be a reload.
    for (const level of levels) writeFileSync(w.file, `log: { level: ${level} }\n`);
    await waitFor(() => w.changes.length >= 1, 5000, 'the watcher\'s change');
    await sleep(200);
    expect(w.loads()).toBe(1);
    expect(w.changes).toHaveLength(1);
    expect(w.current().log.level).toBe('error');
  });

  test('a rewrite with the same meaning is not a change', async () => {
    const w = start('same.yaml', 'log: { level: info }\n');
    replaceAtomically(w.file, '# reformatted\nlog:\n  level: info\n');
    await waitFor(() => w.loads() === 1, 5000, 'a reload');
    await sleep(100);
    expect(w.changes).toEqual([]);
  });

  test('other files in the directory are ignored', async () => {
    const w = start('mine.yaml', 'log: { level: info }\n');
    writeFileSync(join(tmp.dir, 'someone-else.yaml'), 'x: 1\n');
    await sleep(200);
    expect(w.loads()).toBe(0);
  });

  test('reloadNow (SIGHUP) reloads at once, without waiting for the debounce', () => {
    const w = start('hup.yaml', 'log: { level: info }\n');
    writeFileSync(w.file, 'log: { level: debug }\n');
    w.watcher.reloadNow();
    expect(w.current().log.level).toBe('debug');
    expect(w.loads()).toBe(1);
  });

  test('after close nothing more is reported', async () => {
    const w = start('closed.yaml', 'log: { level: info }\n');
    w.watcher.close();
    replaceAtomically(w.file, 'log: { level: debug }\n');
    await sleep(200);
    expect(w.loads()).toBe(0);
  });
});

describe('restartRequired', () => {
  const base = `
ingress: { listen: 8080 }
egress: { listen: 15001, routes: [ { name: payments, listen: 9001, target: http://payments:8080 }, { name: users, listen: 9002, target: http://users:8080 } ] }
admin: { listen: 9901 }
`;
  const cfg = (text: string) => loadConfigText(text, 'r.yaml', {});

  test('nothing when only hot-reloadable keys change (sampling, log level, a route target)', () => {
    const next = cfg(`${base}sampling: { default: { ratio: 0.1 } }\nlog: { level: debug }\n`.replace('http://payments:8080', 'http://payments-v2:8080'));
    expect(restartRequired(cfg(base), next)).toEqual([]);
  });

  test('parts built once at start (exporter, admin store, connect timeout) need a restart', () => {
    const next = cfg(`${base}export: { otlp: { endpoint: http://collector:4317 } }\ningress: { listen: 8080, timeout: { connect: 5s } }\n`.replace('ingress: { listen: 8080 }\n', ''));
    expect(restartRequired(cfg(base), next)).toEqual(['ingress.timeout.connect', 'export.otlp']);
  });

  test('the ingress listener going TLS and the HTTP/2 limits need a restart; a target protocol, its TLS settings and grpc.attributes do not', () => {
    const next = cfg(
      `${base}http2: { maxConcurrentStreams: 10, upstream: { maxSessions: 2 } }\ngrpc: { attributes: legacy }\n`
        .replace('ingress: { listen: 8080 }', 'ingress: { listen: 8080, tls: { cert: /tls/c.pem, key: /tls/k.pem } }')
        .replace('target: http://users:8080 }', 'target: https://users:8443, protocol: h2, targetTls: { ca: /tls/ca.pem } }'),
    );
    expect(restartRequired(cfg(base), next)).toEqual(['ingress.tls', 'http2']);
  });

  test('the same address written differently is not a change', () => {
    const next = cfg(base.replace('listen: 8080', 'listen: "0.0.0.0:8080"').replace('listen: 9901', 'listen: "127.0.0.1:9901"'));
    expect(restartRequired(cfg(base), next)).toEqual([]);
  });

  test('every listener address change is listed', () => {
    const next = cfg(
      base
        .replace('listen: 8080', 'listen: 8081')
        .replace('listen: 15001', 'listen: off')
        .replace('listen: 9001', 'listen: 9011')
        .replace(', { name: users, listen: 9002, target: http://users:8080 }', ', { name: billing, listen: 9003, target: http://billing:8080 }')
        .replace('admin: { listen: 9901 }', 'admin: { listen: "0.0.0.0:9901" }'),
    );
    expect(restartRequired(cfg(base), next)).toEqual([
      'ingress.listen',
      'egress.listen',
      'egress.routes["payments"].listen',
      'egress.routes["users"]',
      'egress.routes["billing"]',
      'admin.listen',
    ]);
  });
});
