import { parseArgs } from 'node:util';
import { tracecarError } from '../errors.js';
import { parseDuration } from '../config/units.js';
import type { TracecarConfigInput } from '../config/types.js';

export const USAGE = `tracecar — a sidecar proxy that traces an uninstrumented service

Usage:
  tracecar --target URL [options]     run the sidecar in front of the app at URL
  tracecar --config FILE [options]    run with a tracecar.yaml (flags override it)
  tracecar validate FILE              check a config file and exit
  tracecar health [options]           exit 0 if the tracecar configured here serves (container HEALTHCHECK)
  tracecar inject [FILE|-] [options]  add the tracecar native sidecar to Kubernetes YAML (see inject --help)

Options:
  -t, --target URL          the app to front, e.g. http://localhost:3000, h2c://localhost:50051 (gRPC) or https://app:8443
  -p, --port N              ingress port (default 8080); host:port also accepted
  -c, --config FILE         YAML config (also TRACECAR_CONFIG)
  -s, --service-name NAME   service.name on spans (also OTEL_SERVICE_NAME)
      --otlp-endpoint URL   export spans over OTLP (also OTEL_EXPORTER_OTLP_ENDPOINT); gRPC unless OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf
      --egress-port N       forward proxy for the app's outgoing calls (HTTP_PROXY=http://127.0.0.1:N)
      --route NAME=PORT:URL named egress route, repeatable (e.g. payments=9001:http://payments:8080)
      --tls-cert FILE       serve TLS (HTTPS and HTTP/2) on the ingress port with this PEM certificate
      --tls-key FILE        ... and this PEM private key (both re-read when they change)
      --infer-parent        parent header-less egress calls when exactly one request is in flight
      --admin-port N        admin + trace viewer port on 127.0.0.1 (default 9901, 0 = any free port)
      --no-admin            turn the admin listener and viewer off
      --log-level LEVEL     trace|debug|info|warn|error|silent (default info)
  -h, --help                show this help
  -v, --version             print the version

Traces go to the terminal and the built-in viewer; set --otlp-endpoint to send them to a collector.
Docs: https://www.npmjs.com/package/tracecar`;

export interface CliCommand {
  kind: 'run' | 'validate' | 'health' | 'inject' | 'help' | 'version';
  configFile?: string;
  validateFile?: string;
  /** Settings given as flags: the highest precedence layer. */
  overrides: TracecarConfigInput;
  /** health: how long each probe may take, in milliseconds. */
  timeoutMs?: number;
  /** health: true when options name the address to probe (then the health file is not read). */
  explicit?: boolean;
  /** inject: its own options, parsed by src/cli/inject.ts. */
  injectArgs?: string[];
}

export function usageError(message: string, hint = 'run `tracecar --help` for usage'): never {
  throw tracecarError('TRC_ERR_INVALID_ARGUMENT', message, { hint });
}

function parsePort(flag: string, value: string): string {
  if (/^\d+$/.test(value)) {
    const n = Number(value);
    if (n >= 0 && n <= 65535) return value;
  } else {
    const m = /^(.+):(\d+)$/.exec(value);
    if (m && Number(m[2]) <= 65535) return value;
  }
  return usageError(`--${flag} must be a port (0-65535) or host:port, got "${value}"`);
}

/** An absolute URL of one of `schemes` (targets may also be h2c://, HTTP/2 with prior knowledge). */
function parseUrl(flag: string, value: string, schemes: readonly string[] = ['http:', 'https:']): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw tracecarError('TRC_ERR_INVALID_URL', `--${flag} is not a valid URL: "${value}"`, {
      hint: 'use an absolute URL such as http://localhost:3000',
    });
  }
  if (!schemes.includes(url.protocol)) {
    const names = schemes.map((s) => `${s}//`);
    throw tracecarError('TRC_ERR_INVALID_URL', `--${flag} must be an ${names.slice(0, -1).join(', ')}${names.length > 2 ? ',' : ''} or ${names.at(-1)} URL, got "${value}"`, {
      hint: 'use an absolute URL such as http://localhost:3000',
    });
  }
  return value;
}

const TARGET_SCHEMES = ['http:', 'https:', 'h2c:'] as const;

/** `NAME=PORT:URL` → an egress route. */
function parseRoute(value: string): { name: string; listen: string; target: string } {
  const m = /^([A-Za-z0-9_.-]+)=(\d+|[^=]+:\d+):((?:https?|h2c):\/\/.+)$/.exec(value);
  if (!m) usageError(`--route must look like NAME=PORT:URL, got "${value}"`, 'e.g. --route payments=9001:http://payments:8080');
  return { name: m[1], listen: parsePort('route', m[2]), target: parseUrl('route', m[3], TARGET_SCHEMES) };
}

/** The run options, shared by `tracecar` and `tracecar health` (which must read the same settings). */
const RUN_OPTIONS = {
  target: { type: 'string', short: 't' },
  port: { type: 'string', short: 'p' },
  config: { type: 'string', short: 'c' },
  'service-name': { type: 'string', short: 's' },
  'otlp-endpoint': { type: 'string' },
  'egress-port': { type: 'string' },
  route: { type: 'string', multiple: true },
  'infer-parent': { type: 'boolean' },
  'admin-port': { type: 'string' },
  admin: { type: 'boolean' },
  'log-level': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'v' },
} as const;

export function parseCli(argv: string[]): CliCommand {
  // Subcommands with options of their own come first on the command line, as in kubectl/linkerd.
  if (argv[0] === 'inject') return { kind: 'inject', injectArgs: argv.slice(1), overrides: {} };
  if (argv[0] === 'health') return parseHealth(argv.slice(1));
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, allowNegative: true, options: RUN_OPTIONS });
  } catch (err) {
    return usageError(parseArgsMessage(err));
  }
  const { values, positionals } = parsed;
  if (values.help) return { kind: 'help', overrides: {} };
  if (values.version) return { kind: 'version', overrides: {} };
  if (positionals[0] === 'validate') {
    if (positionals.length !== 2) usageError('validate takes exactly one FILE', 'tracecar validate ./tracecar.yaml');
    return { kind: 'validate', validateFile: positionals[1], overrides: {} };
  }
  if (positionals.length > 0) usageError(`unexpected argument "${positionals[0]}"`);
  return { kind: 'run', configFile: values.config, overrides: runOverrides(values) };
}

/** parseArgs messages are already one line ("Unknown option '--prot'..."); keep them. */
function parseArgsMessage(err: unknown): string {
  return (err as Error).message.split('\n')[0].replace(/\. To specify.*$/, '');
}

/** `tracecar health [run options] [--timeout 2s]`. */
function parseHealth(argv: string[]): CliCommand {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: false, strict: true, allowNegative: true, options: { ...RUN_OPTIONS, timeout: { type: 'string' } } });
  } catch (err) {
    return usageError(parseArgsMessage(err), 'tracecar health [--config FILE] [--port N] [--admin-port N | --no-admin] [--timeout 2s]');
  }
  const { timeout, help, version, ...values } = parsed.values;
  if (help) return { kind: 'help', overrides: {} };
  if (version) return { kind: 'version', overrides: {} };
  let timeoutMs = 1500;
  if (timeout !== undefined) {
    try {
      timeoutMs = parseDuration(timeout);
    } catch {
      usageError(`--timeout must be a duration such as 2s or 500ms, got "${timeout}"`);
    }
  }
  const explicit = values.config !== undefined || values.port !== undefined || values['admin-port'] !== undefined || values.admin !== undefined;
  return { kind: 'health', configFile: values.config, overrides: runOverrides(values), timeoutMs, explicit };
}

interface RunValues {
  target?: string;
  port?: string;
  'service-name'?: string;
  'otlp-endpoint'?: string;
  'egress-port'?: string;
  route?: string[];
  'infer-parent'?: boolean;
  'admin-port'?: string;
  admin?: boolean;
  'log-level'?: string;
  'tls-cert'?: string;
  'tls-key'?: string;
}

function runOverrides(values: RunValues): TracecarConfigInput {
  const o: TracecarConfigInput = {};
  if (values.target !== undefined) (o.ingress ??= {}).target = parseUrl('target', values.target, TARGET_SCHEMES);
  if (values.port !== undefined) (o.ingress ??= {}).listen = parsePort('port', values.port);
  if (values['service-name'] !== undefined) {
    if (!values['service-name'].trim()) usageError('--service-name must not be empty');
    o.service = { name: values['service-name'] };
  }
  if (values['otlp-endpoint'] !== undefined) o.export = { otlp: { endpoint: parseUrl('otlp-endpoint', values['otlp-endpoint']) } };
  if (values['egress-port'] !== undefined) (o.egress ??= {}).listen = parsePort('egress-port', values['egress-port']);
  if (values.route) (o.egress ??= {}).routes = values.route.map(parseRoute);
  if (values['infer-parent']) (o.egress ??= {}).inferParent = 'when-unambiguous';
  if (values.admin === false) o.admin = { listen: null };
  else if (values['admin-port'] !== undefined) {
    const p = parsePort('admin-port', values['admin-port']);
    o.admin = { listen: /^\d+$/.test(p) ? `127.0.0.1:${p}` : p };
  }
  if (values['log-level'] !== undefined) {
    const levels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];
    if (!levels.includes(values['log-level'])) usageError(`--log-level must be one of ${levels.join(', ')}`);
    o.log = { level: values['log-level'] as never };
  }
  const cert = values['tls-cert'];
  const key = values['tls-key'];
  if ((cert === undefined) !== (key === undefined)) usageError('--tls-cert and --tls-key go together', 'tracecar --target URL --tls-cert tls.crt --tls-key tls.key');
  if (cert !== undefined && key !== undefined) (o.ingress ??= {}).tls = { cert, key };
  return o;
}
