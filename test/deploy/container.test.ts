/**
 * The real image, built and run: deploy/container-test.sh (see its header) with podman, as CI runs it
 * (.ci/run installs podman, runc, mmdebstrap and podman-compose from Debian). Minutes on a cold machine
 * (the stand-in base is made once, then cached in podman's store), about 30 s when cached. The script's
 * TAP output is printed and kept in test-artifacts/container-test.log.
 */
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const podman = spawnSync('podman', ['--version'], { encoding: 'utf8' });
const missing = podman.status === 0 ? undefined : 'podman is not installed (Debian: apt-get install podman runc mmdebstrap podman-compose; .ci/run does this)';
if (missing) console.warn(`test/deploy/container.test.ts skipped: ${missing}`);

/** Every check the script makes, in order: a missing line is a check that did not run. */
const CHECKS = [
  /^ok \d+ - (base node:22-bookworm-slim found locally|base node:22-bookworm-slim pulled|stand-in base node:22-bookworm-slim made in [\d.]+ s)/,
  /^ok \d+ - image built from \.\/Dockerfile in [\d.]+ s/,
  /^ok \d+ - image size [\d.]+ MB: base [\d.]+ MB \+ tracecar [\d.]+ MB/,
  /^ok \d+ - image has a HEALTHCHECK running `tracecar health`/,
  /^ok \d+ - image user is 1000:1000/,
  /^ok \d+ - image holds production files only/,
  /^ok \d+ - container started/,
  /^ok \d+ - a request flows through the container to the app/,
  /^ok \d+ - its SERVER span reached the OTLP sink/,
  /^ok \d+ - the sidecar process runs as a non-root user/,
  /^ok \d+ - HEALTHCHECK passes \(admin on --admin-port/,
  /^ok \d+ - HEALTHCHECK passes with --no-admin/,
  /^ok \d+ - `tracecar health` fails \(exit 1\)/,
  /^ok \d+ - podman stop drained the in-flight request .* exited 0/,
  /^ok \d+ - the drained request's span was flushed to the sink before exit/,
  /^ok \d+ - the --no-admin container also exits 0 on podman stop/,
  /^ok \d+ - compose topology up/,
  /^ok \d+ - a request to orders reaches payments through the sidecars/,
  /^ok \d+ - one trace across both services in the viewer .*orders SERVER .*orders CLIENT .*payments SERVER/,
  /^ok \d+ - the orders sidecar's own viewer .* shows its hop of that trace/,
  /^ok \d+ - the sidecars' HEALTHCHECK passes inside the compose topology/,
  /^ok \d+ - compose stop: every container exited 0/,
];

describe('the container image, built with podman and run (deploy/container-test.sh)', () => {
  it.skipIf(missing !== undefined)(
    'builds from the Dockerfile, serves and traces, is healthy, drains on stop; compose yields one trace across both services',
    async () => {
      const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env.PATH}` };
      const child = spawn('bash', ['deploy/container-test.sh'], { cwd: root, env });
      let output = '';
      child.stdout.on('data', (c) => (output += c));
      child.stderr.on('data', (c) => (output += c));
      const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
      mkdirSync(`${root}test-artifacts`, { recursive: true });
      writeFileSync(`${root}test-artifacts/container-test.log`, output);
      console.log(output);
      const lines = output.split('\n');
      expect(lines.filter((l) => l.startsWith('not ok') || l.startsWith('Bail out!'))).toEqual([]);
      for (const check of CHECKS) expect(lines.some((l) => check.test(l)), String(check)).toBe(true);
      expect(code).toBe(0);
    },
    30 * 60_000,
  );
});
