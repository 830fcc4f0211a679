/**
 * `tracecar inject [FILE…|-] [options]`: reads Kubernetes YAML (files, or stdin), writes it with the
 * tracecar native sidecar added to stdout, and one line per object to stderr saying what was done:
 *   tracecar inject app.yaml | kubectl apply -f -
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { INJECT_DEFAULTS, InjectInputError, injectManifests, type InjectOptions } from '../kubernetes/inject.js';
import { usageError } from './args.js';
import { tracecarError } from '../errors.js';

export const INJECT_USAGE = `tracecar inject — add the tracecar sidecar to Kubernetes YAML

Usage:
  tracecar inject FILE… [options]     (or "-" / no FILE: read stdin), e.g.
  tracecar inject app.yaml --image registry.example.com/tracecar:0.1.0 | kubectl apply -f -

Adds tracecar to every Pod template (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod)
as a native sidecar (Kubernetes 1.29+), sets HTTP_PROXY/NO_PROXY on the app container, and points the
input's Services that select those Pods at the sidecar. Injecting twice changes nothing.

Options:
      --image IMAGE          the tracecar image (default tracecar:VERSION)
      --target-port PORT     the app port to front: number or containerPort name (default: the port named
                             "http", or the Pod's only port)
      --port N               the sidecar's ingress port, where Services are pointed (default ${INJECT_DEFAULTS.port})
      --egress-port N        the egress proxy the app's HTTP_PROXY names (default ${INJECT_DEFAULTS.egressPort})
      --admin-port N         admin port, probed by the kubelet (default ${INJECT_DEFAULTS.adminPort})
      --config-map NAME      a ConfigMap with tracecar.yaml, mounted at /etc/tracecar
      --otlp-endpoint URL    OTEL_EXPORTER_OTLP_ENDPOINT for the sidecar (e.g. http://otel-collector.observability:4317)
      --otlp-protocol P      grpc | http/protobuf | http/json
  -h, --help                 show this help`;

export interface InjectIo {
  stdin: NodeJS.ReadableStream;
  stdout: (s: string) => void;
  stderr: (s: string) => void;
}

function port(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65535) usageError(`--${flag} must be a port 1-65535, got "${value}"`, 'tracecar inject --help');
  return n;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** Returns the exit code: 0 (also when some objects were skipped, as linkerd inject does), 1 on bad input. */
export async function runInject(argv: string[], io: InjectIo, version: string): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        image: { type: 'string' },
        'target-port': { type: 'string' },
        port: { type: 'string' },
        'egress-port': { type: 'string' },
        'admin-port': { type: 'string' },
        'config-map': { type: 'string' },
        'otlp-endpoint': { type: 'string' },
        'otlp-protocol': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    return usageError((err as Error).message.split('\n')[0], 'tracecar inject --help');
  }
  const { values, positionals } = parsed;
  if (values.help) {
    io.stdout(`${INJECT_USAGE}\n`);
    return 0;
  }
  const protocols = ['grpc', 'http/protobuf', 'http/json'];
  if (values['otlp-protocol'] !== undefined && !protocols.includes(values['otlp-protocol'])) {
    usageError(`--otlp-protocol must be one of ${protocols.join(', ')}`);
  }
  if (values['otlp-endpoint'] !== undefined && !/^https?:\/\/[^/\s]+/.test(values['otlp-endpoint'])) {
    usageError(`--otlp-endpoint must be an http:// or https:// URL, got "${values['otlp-endpoint']}"`);
  }
  if (values['config-map'] !== undefined && !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(values['config-map'])) {
    usageError(`--config-map must be a Kubernetes object name (lowercase letters, digits, "-", "."), got "${values['config-map']}"`);
  }
  const options: InjectOptions = {
    image: values.image ?? `tracecar:${version}`,
    targetPort: values['target-port'],
    port: port('port', values.port, INJECT_DEFAULTS.port),
    egressPort: port('egress-port', values['egress-port'], INJECT_DEFAULTS.egressPort),
    adminPort: port('admin-port', values['admin-port'], INJECT_DEFAULTS.adminPort),
    configMap: values['config-map'],
    otlpEndpoint: values['otlp-endpoint'],
    otlpProtocol: values['otlp-protocol'],
  };

  const files = positionals.length ? positionals : ['-'];
  const inputs: Array<{ text: string; source: string }> = [];
  for (const file of files) {
    try {
      inputs.push(file === '-' ? { text: await readAll(io.stdin), source: '<stdin>' } : { text: readFileSync(file, 'utf8'), source: file });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
      throw tracecarError('TRC_ERR_INJECT_INPUT', `cannot read ${file}: ${why}`);
    }
  }
  let result;
  try {
    result = injectManifests(inputs, options);
  } catch (err) {
    if (err instanceof InjectInputError) throw tracecarError('TRC_ERR_INJECT_INPUT', err.message, { hint: 'tracecar inject reads Kubernetes YAML: one or more documents separated by ---' });
    throw err;
  }
  for (const n of result.notes) io.stderr(`tracecar inject: ${n.object} ${n.action}: ${n.detail}\n`);
  io.stdout(result.output);
  return 0;
}
