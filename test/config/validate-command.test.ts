import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, test } from 'vitest';
import { runValidate } from '../../src/config/validate-command.js';
import { tempDir } from './helpers.js';

const tmp = tempDir();

function run(file: string, env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = runValidate(file, { stdout: (s) => out.push(s), stderr: (s) => err.push(s) }, env);
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('tracecar validate FILE', () => {
  test('a good file: exit 0 and "config OK: FILE"', () => {
    const file = tmp.write('good.yaml', 'ingress: { target: http://127.0.0.1:3000 }\n');
    expect(run(file)).toEqual({ code: 0, stdout: `config OK: ${file}\n`, stderr: '' });
  });

  test('the shipped example validates', () => {
    const example = fileURLToPath(new URL('../../config/tracecar.yaml', import.meta.url));
    expect(readFileSync(example, 'utf8')).toContain('yaml-language-server: $schema=./schema.json');
    expect(run(example).code).toBe(0);
  });

  test('the TLS files it names are read: a missing one fails validation, naming the setting and the file', () => {
    const file = tmp.write('tls.yaml', 'ingress: { target: http://127.0.0.1:3000, tls: { cert: /nonexistent/tls.crt, key: /nonexistent/tls.key } }\n');
    expect(run(file)).toEqual({
      code: 1,
      stdout: '',
      stderr: `ingress.tls.cert /nonexistent/tls.crt: cannot read it: no such file\nconfig invalid: ${file} (a TLS file, TRC_ERR_TLS)\n`,
    });
  });

  test('a bad file: exit 1, every problem on stderr, then a summary', () => {
    const file = tmp.write('bad.yaml', 'sampleing: {}\ningress:\n  listen: nope\n');
    const result = run(file);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      [
        `${file}:1:1  sampleing: unknown key "sampleing" (did you mean "sampling"?)`,
        `${file}:3:11  ingress.listen: invalid listen address "nope" (expected a port 0-65535 or "host:port", e.g. 8080 or 127.0.0.1:8080)`,
        `config invalid: ${file} (2 problems, TRC_ERR_CONFIG_INVALID)`,
        '',
      ].join('\n'),
    );
  });

  test('uses the environment for ${VAR}', () => {
    const file = tmp.write('env.yaml', 'ingress: { target: "${APP}" }\n');
    expect(run(file).code).toBe(1);
    expect(run(file, { APP: 'http://app:3000' }).code).toBe(0);
  });

  test('a missing file: exit 1 with the read error', () => {
    const result = run(`${tmp.dir}/missing.yaml`);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${tmp.dir}/missing.yaml  cannot read config file: no such file`);
    expect(result.stderr).toContain('TRC_ERR_CONFIG_READ');
  });
});
