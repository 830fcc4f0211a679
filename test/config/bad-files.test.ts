import { describe, expect, test } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { ConfigError } from '../../src/config/problems.js';
import { TracecarError } from '../../src/errors.js';
import { tempDir, thrown } from './helpers.js';

const tmp = tempDir();

/**
 * Each bad file gives exactly these lines (after the "FILE:" prefix): position, dotted key path,
 * what is wrong and what was expected.
 */
const BAD_FILES: Array<[string, string, string[]]> = [
  [
    'unknown top-level key, with a did-you-mean',
    'sampleing:\n  default: { ratio: 0.5 }\n',
    ['1:1  sampleing: unknown key "sampleing" (did you mean "sampling"?)'],
  ],
  [
    'unknown nested key, with a did-you-mean',
    'ingress:\n  listen: 8080\n  targt: http://127.0.0.1:3000\n',
    ['3:3  ingress.targt: unknown key "targt" (did you mean "target"?)'],
  ],
  [
    'a key written one level too high',
    'target: http://127.0.0.1:3000\n',
    ['1:1  target: unknown key "target" (did you mean "ingress.target"?)'],
  ],
  [
    'unknown key with nothing close lists the keys',
    'log:\n  colour: red\n',
    ['2:3  log.colour: unknown key "colour" (expected one of: level)'],
  ],
  [
    'wrong type',
    'chaos:\n  enabled: yes please\n',
    ['2:12  chaos.enabled: wrong type, got string "yes please" (expected true or false)'],
  ],
  [
    'wrong type: a list where a mapping belongs',
    'ingress: [8080]\n',
    ['1:10  ingress: wrong type, got a list (expected a mapping of keys to values)'],
  ],
  [
    'bad duration',
    'ingress:\n  timeout:\n    connect: 2 sec\n',
    ['3:14  ingress.timeout.connect: invalid duration "2 sec" (expected a duration like "250ms", "2s", "1m" or a number of milliseconds)'],
  ],
  [
    'ratio out of range',
    'sampling:\n  default:\n    ratio: 1.5\n',
    ['3:12  sampling.default.ratio: 1.5 is out of range (expected a ratio from 0 to 1, or a percentage like "10%")'],
  ],
  [
    'percent out of range in a list item',
    'chaos:\n  rules:\n    - abort: { status: 503, percent: 150 }\n',
    ['3:38  chaos.rules[0].abort.percent: 150 is out of range (expected a percentage from 0 to 100, e.g. 10 or "10%")'],
  ],
  [
    'bad URL',
    'ingress:\n  target: localhost:3000\n',
    ['2:11  ingress.target: invalid URL "localhost:3000" (expected an http://, https:// or h2c:// URL like http://127.0.0.1:3000)'],
  ],
  [
    'bad listen address',
    'admin:\n  listen: 127.0.0.1:99999\n',
    ['2:11  admin.listen: invalid listen address "127.0.0.1:99999" (expected a port 0-65535, "host:port" (e.g. 127.0.0.1:9901), or off)'],
  ],
  [
    'port out of range',
    'ingress:\n  listen: 70000\n',
    ['2:11  ingress.listen: 70000 is out of range (expected a port 0-65535 or "host:port", e.g. 8080 or 127.0.0.1:8080)'],
  ],
  [
    'unknown enum value, with a did-you-mean',
    'egress:\n  inferParent: when-unambigous\n',
    ['2:16  egress.inferParent: unknown value "when-unambigous" (did you mean "when-unambiguous"?)'],
  ],
  [
    'missing required key in a list item',
    'egress:\n  routes:\n    - name: payments\n      listen: 9001\n',
    ['3:7  egress.routes[0].target: missing required key "target"'],
  ],
  [
    'bad header name as a map key',
    'sampling:\n  rules:\n    - match: { headers: { "x debug": "1" } }\n      ratio: 1\n',
    ['3:27  sampling.rules[0].match.headers["x debug"]: invalid header name "x debug" (expected an HTTP header name like x-request-id)'],
  ],
  [
    'duplicate list entry',
    'propagation:\n  extract: [w3c, b3, w3c]\n',
    ['2:22  propagation.extract[2]: "w3c" is listed twice (expected each value once)'],
  ],
  [
    'a chaos rule without a fault',
    'chaos:\n  rules:\n    - match: { path: /x }\n',
    ['3:7  chaos.rules[0]: no fault given (expected at least one of: delay, abort, reset, throttle, slowBody)'],
  ],
  [
    'uniform delay with min above max',
    'chaos:\n  rules:\n    - delay: { min: 3s, max: 1s }\n',
    ['3:30  chaos.rules[0].delay.max: max "1s" is below min "3s" (expected min <= max)'],
  ],
  [
    'both correlation header forms',
    'propagation:\n  correlationHeader: x-request-id\n  correlationHeaders: [x-trace]\n',
    ['2:3  propagation.correlationHeader: use either correlationHeader or correlationHeaders, not both (expected correlationHeaders: [a, b] for several)'],
  ],
  [
    'several problems come one per line, in file order',
    'ingress:\n  listen: nope\n  target: ftp://x\nlog:\n  level: loud\n',
    [
      '2:11  ingress.listen: invalid listen address "nope" (expected a port 0-65535 or "host:port", e.g. 8080 or 127.0.0.1:8080)',
      '3:11  ingress.target: invalid URL "ftp://x" (expected an http://, https:// or h2c:// URL like http://127.0.0.1:3000)',
      '5:10  log.level: unknown value "loud" (expected one of: trace, debug, info, warn, error, fatal, silent)',
    ],
  ],
];

describe('a bad file is rejected with file:line:col  path: message', () => {
  test.each(BAD_FILES)('%s', (name, text, expected) => {
    const file = tmp.write(`${name.replace(/\W+/g, '-')}.yaml`, text);
    const err = thrown(() => loadConfig({ file, env: {} }));
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toBeInstanceOf(TracecarError);
    expect(err.code).toBe('TRC_ERR_CONFIG_INVALID');
    expect(err.message).toBe(expected.map((line) => `${file}:${line}`).join('\n'));
    expect(err.problems).toHaveLength(expected.length);
  });

  test('problems are structured too', () => {
    const file = tmp.write('structured.yaml', 'sampling:\n  default:\n    ratio: 2\n');
    const err = thrown(() => loadConfig({ file, env: {} })) as ConfigError;
    expect(err.problems).toEqual([
      {
        file,
        line: 3,
        col: 12,
        path: 'sampling.default.ratio',
        message: '2 is out of range (expected a ratio from 0 to 1, or a percentage like "10%")',
      },
    ]);
    expect(err.hint).toMatch(/config\/tracecar.yaml/);
  });
});

describe('YAML syntax errors and unreadable files', () => {
  test('a syntax error is TRC_ERR_CONFIG_PARSE with its line', () => {
    const file = tmp.write('syntax.yaml', 'service:\n  name: orders\n  version: 1: 2\n');
    const err = thrown(() => loadConfig({ file, env: {} }));
    expect(err.code).toBe('TRC_ERR_CONFIG_PARSE');
    expect(err.message).toBe(`${file}:3:12  YAML syntax error: Nested mappings are not allowed in compact mappings`);
  });

  test('an unterminated quoted string is a syntax error', () => {
    const file = tmp.write('quote.yaml', 'log:\n  level: "info\n');
    const err = thrown(() => loadConfig({ file, env: {} }));
    expect(err.code).toBe('TRC_ERR_CONFIG_PARSE');
    expect(err.message).toBe(`${file}:2:10  YAML syntax error: Missing closing "quote`);
  });

  test('an unclosed flow list points at its opening bracket', () => {
    const file = tmp.write('bracket.yaml', 'propagation:\n  extract: [w3c, b3\nlog:\n  level: info\n');
    const err = thrown(() => loadConfig({ file, env: {} }));
    expect(err.code).toBe('TRC_ERR_CONFIG_PARSE');
    expect(err.message).toBe(`${file}:2:12  YAML syntax error: Flow sequence in block collection must be sufficiently indented and end with a ]`);
  });

  test('a duplicate key is a syntax error at the second one', () => {
    const file = tmp.write('dup.yaml', 'log:\n  level: info\nlog:\n  level: debug\n');
    const err = thrown(() => loadConfig({ file, env: {} }));
    expect(err.code).toBe('TRC_ERR_CONFIG_PARSE');
    expect(err.message).toBe(`${file}:3:1  YAML syntax error: Map keys must be unique`);
  });

  test('tabs for indentation are reported on their line', () => {
    const file = tmp.write('tabs.yaml', 'log:\n\tlevel: info\n');
    const err = thrown(() => loadConfig({ file, env: {} }));
    expect(err.code).toBe('TRC_ERR_CONFIG_PARSE');
    expect(err.message).toMatch(new RegExp(`^${escape(file)}:2:1  YAML syntax error: .*[Tt]ab`));
  });

  test('a missing file is TRC_ERR_CONFIG_READ naming the path', () => {
    const file = `${tmp.dir}/nope.yaml`;
    const err = thrown(() => loadConfig({ file, env: {} }));
    expect(err.code).toBe('TRC_ERR_CONFIG_READ');
    expect(err.message).toBe(`${file}  cannot read config file: no such file`);
  });

  test('an empty file or a comment-only file is the defaults', () => {
    const empty = tmp.write('empty.yaml', '');
    const comments = tmp.write('comments.yaml', '# nothing here\n');
    expect(loadConfig({ file: empty, env: {} }).ingress.listen).toBe('8080');
    expect(loadConfig({ file: comments, env: {} }).admin.listen).toBe('127.0.0.1:9901');
  });

  test('a file that is not a mapping', () => {
    const file = tmp.write('list.yaml', '- 1\n- 2\n');
    const err = thrown(() => loadConfig({ file, env: {} }));
    expect(err.message).toBe(`${file}:1:1  wrong type, got a list (expected a mapping of keys to values)`);
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
