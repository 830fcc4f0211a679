/**
 * `tracecar inject`: Kubernetes YAML in, the same YAML with the tracecar sidecar out — what
 * `linkerd inject` and `istioctl kube-inject` do for their proxies, without a webhook.
 *
 * For each Pod template (Deployment, StatefulSet, DaemonSet, ReplicaSet, Job, CronJob, Pod, and the
 * items of a List) it adds tracecar as a Kubernetes native sidecar (an init container with
 * `restartPolicy: Always`, Kubernetes ≥ 1.29) fronting the app's port, gives the app container
 * HTTP_PROXY/NO_PROXY for the egress proxy, and mounts the tracecar ConfigMap when one is named.
 * Each Service in the input that selects an injected Pod template and targets the fronted port is
 * pointed at the sidecar's port instead. Injecting twice changes nothing; what cannot be injected is
 * passed through unchanged with the reason. Documents that are not modified are written back byte for
 * byte (comments and layout kept); modified ones are re-serialised by the `yaml` library, comments kept.
 */
import { isMap, isScalar, isSeq, Parser, parseDocument, type Document } from 'yaml';

export interface InjectOptions {
  /** The tracecar image. */
  image: string;
  /** The app port to front: a number or a containerPort name. Default: the port named "http", else the only port. */
  targetPort?: string;
  /** The sidecar's ingress port; Services are pointed at it (by the port name "tracecar"). */
  port: number;
  /** The egress forward proxy the app's HTTP_PROXY names. */
  egressPort: number;
  /** The admin listener the kubelet probes (bound on the pod IP). */
  adminPort: number;
  /** A ConfigMap holding tracecar.yaml, mounted at /etc/tracecar. */
  configMap?: string;
  otlpEndpoint?: string;
  otlpProtocol?: string;
}

export const INJECT_DEFAULTS = { port: 15080, egressPort: 15001, adminPort: 9901 } as const;

/** Names the sidecar adds to a Pod; also how an injected Pod is recognised. */
export const SIDECAR_NAME = 'tracecar';
const INGRESS_PORT_NAME = 'tracecar';
const ADMIN_PORT_NAME = 'tracecar-admin';
const CONFIG_VOLUME = 'tracecar-config';
const CONFIG_DIR = '/etc/tracecar';

/**
 * From bench/RESULTS.md (wrk, one core): 56–99 µs CPU per request (as shipped, with export, viewer store
 * and access log: 99 µs, so 100m ≈ 1,000 req/s); idle RSS 95–120 MiB, peak 256 MiB at saturation as
 * shipped. The memory limit leaves room above that peak. No CPU limit: throttling a proxy adds latency
 * to every request.
 */
export const SIDECAR_RESOURCES = { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '384Mi' } };

/** The image's user (the node base image's "node", uid 1000), nothing it does not need. */
export const SIDECAR_SECURITY_CONTEXT = {
  runAsNonRoot: true,
  runAsUser: 1000,
  runAsGroup: 1000,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

export type InjectAction = 'injected' | 'updated' | 'unchanged' | 'skipped';

export interface InjectNote {
  /** "Deployment/orders" (with "namespace/" before the name when the document has one). */
  object: string;
  action: InjectAction;
  detail: string;
}

export interface InjectResult {
  output: string;
  notes: InjectNote[];
}

export class InjectInputError extends Error {}

/** Where each kind keeps its Pod template's spec. */
const POD_SPEC_PATH: Readonly<Record<string, readonly string[]>> = {
  Pod: ['spec'],
  Deployment: ['spec', 'template', 'spec'],
  StatefulSet: ['spec', 'template', 'spec'],
  DaemonSet: ['spec', 'template', 'spec'],
  ReplicaSet: ['spec', 'template', 'spec'],
  Job: ['spec', 'template', 'spec'],
  CronJob: ['spec', 'jobTemplate', 'spec', 'template', 'spec'],
};

/** OpenTelemetry semantic conventions: the workload's name as a resource attribute. */
const WORKLOAD_ATTRIBUTE: Readonly<Record<string, string>> = {
  Deployment: 'k8s.deployment.name',
  StatefulSet: 'k8s.statefulset.name',
  DaemonSet: 'k8s.daemonset.name',
  ReplicaSet: 'k8s.replicaset.name',
  Job: 'k8s.job.name',
  CronJob: 'k8s.cronjob.name',
};

type Json = Record<string, unknown>;
type Path = Array<string | number>;

interface ContainerPort {
  name?: string;
  containerPort?: number;
  protocol?: string;
}
interface Container {
  name?: string;
  ports?: ContainerPort[];
  env?: Array<{ name?: string }>;
}

/** A Pod template injected in this input (or found already injected): what Services need to match it. */
interface FrontedPod {
  namespace?: string;
  labels: Record<string, string>;
  appPort: number;
  appPortName?: string;
}

/** Splits a YAML stream into each document's exact source text (leading comments go with the first). */
export function splitDocuments(text: string): Array<{ raw: string; offset: number }> {
  const starts: number[] = [];
  for (const token of new Parser().parse(text)) if (token.type === 'document') starts.push(token.offset);
  if (starts.length === 0) return [];
  starts[0] = 0;
  return starts.map((offset, i) => ({ raw: text.slice(offset, starts[i + 1] ?? text.length), offset }));
}

/** Several inputs are one stream (as `kubectl apply -f a.yaml -f b.yaml` reads them): a Service in one file matches a Deployment in another. */
export function injectManifests(inputs: string | Array<{ text: string; source: string }>, options: InjectOptions): InjectResult {
  const notes: InjectNote[] = [];
  const fronted: FrontedPod[] = [];
  const list = typeof inputs === 'string' ? [{ text: inputs, source: '<stdin>' }] : inputs;
  const chunks = list.flatMap(({ text, source }) =>
    splitDocuments(text).map(({ raw, offset }) => {
      const doc = parseDocument(raw, { prettyErrors: false });
      if (doc.errors.length > 0) {
        const err = doc.errors[0];
        const line = lineOf(text, offset + (err.pos?.[0] ?? 0));
        throw new InjectInputError(`${source}:${line}: ${err.message.split('\n')[0]}`);
      }
      return { raw, doc, changed: false };
    }),
  );

  // Pod templates first, so a Service listed before its Deployment is still matched.
  for (const chunk of chunks) {
    const root = chunk.doc.toJS() as unknown;
    if (root === null || root === undefined) continue;
    if (!isObject(root) || typeof root.kind !== 'string') {
      notes.push({ object: '(document)', action: 'skipped', detail: 'not a Kubernetes object (no kind): passed through unchanged' });
      continue;
    }
    if (root.kind === 'List' && Array.isArray(root.items)) {
      root.items.forEach((item, i) => {
        if (isObject(item) && typeof item.kind === 'string' && item.kind !== 'Service') {
          if (injectObject(chunk.doc, ['items', i], item, options, notes, fronted)) chunk.changed = true;
        }
      });
    } else if (root.kind !== 'Service') {
      if (injectObject(chunk.doc, [], root, options, notes, fronted)) chunk.changed = true;
    }
  }
  for (const chunk of chunks) {
    const root = chunk.doc.toJS() as unknown;
    if (!isObject(root)) continue;
    if (root.kind === 'Service') {
      if (pointService(chunk.doc, [], root, fronted, notes)) chunk.changed = true;
    } else if (root.kind === 'List' && Array.isArray(root.items)) {
      root.items.forEach((item, i) => {
        if (isObject(item) && item.kind === 'Service' && pointService(chunk.doc, ['items', i], item, fronted, notes)) chunk.changed = true;
      });
    }
  }

  const output = chunks
    .map(({ raw, doc, changed }, i) => {
      // Re-serialised in the document's own sequence style ("key:\n- item", as kubectl writes, or indented).
      let out = changed ? doc.toString({ lineWidth: 0, indentSeq: !/^( *)[^\s#-][^\n]*:[ \t]*\n\1- /m.test(raw) }) : raw;
      if (!out.endsWith('\n')) out += '\n';
      // A document after the first needs its "---" (a re-serialised one may have lost it).
      if (i > 0 && !/^(?:#.*\n|\s*\n)*---/.test(out)) out = `---\n${out}`;
      return out;
    })
    .join('');
  return { output, notes };
}

function injectObject(doc: Document, at: Path, obj: Json, options: InjectOptions, notes: InjectNote[], fronted: FrontedPod[]): boolean {
  const kind = obj.kind as string;
  const meta = isObject(obj.metadata) ? obj.metadata : {};
  const name = typeof meta.name === 'string' ? meta.name : '(unnamed)';
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : undefined;
  const object = `${kind}/${namespace ? `${namespace}/` : ''}${name}`;
  const specPath = POD_SPEC_PATH[kind];
  if (!specPath) {
    notes.push({ object, action: 'skipped', detail: `${kind} has no Pod template: passed through unchanged` });
    return false;
  }
  const spec = getPath(obj, specPath);
  const podMeta = getPath(obj, [...specPath.slice(0, -1), 'metadata']);
  const labels = isObject(podMeta) && isObject(podMeta.labels) ? (podMeta.labels as Record<string, string>) : {};
  if (!isObject(spec) || !Array.isArray(spec.containers) || spec.containers.length === 0) {
    notes.push({ object, action: 'skipped', detail: `no containers at ${specPath.join('.')}.containers` });
    return false;
  }
  const containers = spec.containers as Container[];
  const initContainers = (Array.isArray(spec.initContainers) ? spec.initContainers : []) as Container[];

  const existing = initContainers.find((c) => c.name === SIDECAR_NAME);
  if (existing) {
    const target = /:(\d+)\/?$/.exec(envValue(existing, 'TRACECAR_TARGET') ?? '');
    if (target) {
      const appPort = Number(target[1]);
      fronted.push({ namespace, labels, appPort, appPortName: portName(containers, appPort) });
    }
    notes.push({ object, action: 'unchanged', detail: 'already has the tracecar sidecar' });
    return false;
  }
  if (containers.some((c) => c.name === SIDECAR_NAME)) {
    notes.push({ object, action: 'skipped', detail: 'has a regular "tracecar" container: remove it to inject the native sidecar' });
    return false;
  }
  if (spec.hostNetwork === true) {
    notes.push({ object, action: 'skipped', detail: "hostNetwork: the sidecar's ports would be bound on the node" });
    return false;
  }

  const chosen = chooseAppPort(containers, options.targetPort, meta, podMeta);
  if ('reason' in chosen) {
    notes.push({ object, action: 'skipped', detail: chosen.reason });
    return false;
  }
  const sidecarPorts = { '--port': options.port, '--egress-port': options.egressPort, '--admin-port': options.adminPort };
  for (const [flag, port] of Object.entries(sidecarPorts)) {
    const user = [...containers, ...initContainers].find((c) => c.ports?.some((p) => p.containerPort === port));
    if (user || chosen.port === port) {
      notes.push({ object, action: 'skipped', detail: `port ${port} is used by container "${user?.name ?? chosen.container.name}": choose another with ${flag}` });
      return false;
    }
  }
  const volumes = (Array.isArray(spec.volumes) ? spec.volumes : []) as Array<{ name?: string }>;
  if (options.configMap && volumes.some((v) => v.name === CONFIG_VOLUME)) {
    notes.push({ object, action: 'skipped', detail: `the Pod already has a volume named "${CONFIG_VOLUME}"` });
    return false;
  }

  const base = [...at, ...specPath];
  const serviceName = labels['app.kubernetes.io/name'] ?? labels.app ?? name;
  const sidecar = doc.createNode(sidecarContainer(options, chosen.port, serviceName, WORKLOAD_ATTRIBUTE[kind] ? `${WORKLOAD_ATTRIBUTE[kind]}=${name}` : undefined));
  const initSeq = doc.getIn([...base, 'initContainers']);
  const specMap = doc.getIn(base);
  if (isSeq(initSeq)) initSeq.items.unshift(sidecar);
  else if (isMap(specMap)) {
    // Before `containers`, where a reader expects init containers.
    const at = specMap.items.findIndex((pair) => isScalar(pair.key) && pair.key.value === 'containers');
    specMap.items.splice(Math.max(at, 0), 0, doc.createPair('initContainers', doc.createNode([sidecar])));
  } else doc.setIn([...base, 'initContainers'], doc.createNode([sidecar]));

  const appIndex = containers.indexOf(chosen.container);
  const added: string[] = [];
  // Each variable in both cases: Go, Python and Node read the upper-case name, curl and wget read
  // only `http_proxy` in lower case. An app that sets either case keeps its own (both left alone).
  const proxyEnv: Array<[string, string]> = [
    ['HTTP_PROXY', `http://127.0.0.1:${options.egressPort}`],
    ['NO_PROXY', '127.0.0.1,localhost'],
  ];
  const kept: string[] = [];
  for (const [variable, value] of proxyEnv) {
    const lower = variable.toLowerCase();
    const own = chosen.container.env?.find((e) => e.name === variable || e.name === lower);
    if (own) {
      kept.push(own.name === variable ? variable : lower);
      continue;
    }
    for (const name of [variable, lower]) {
      const envPath = [...base, 'containers', appIndex, 'env'];
      const envSeq = doc.getIn(envPath);
      if (isSeq(envSeq)) envSeq.items.push(doc.createNode({ name, value }));
      else doc.setIn(envPath, doc.createNode([{ name, value }]));
      added.push(name);
    }
  }
  if (options.configMap) {
    const volume = doc.createNode({ name: CONFIG_VOLUME, configMap: { name: options.configMap } });
    const volSeq = doc.getIn([...base, 'volumes']);
    if (isSeq(volSeq)) volSeq.items.push(volume);
    else doc.setIn([...base, 'volumes'], doc.createNode([volume]));
  }

  const portLabel = chosen.name ? `${chosen.name} (${chosen.port})` : String(chosen.port);
  notes.push({
    object,
    action: 'injected',
    detail:
      `sidecar :${options.port} fronts container "${chosen.container.name}" port ${portLabel}` +
      (added.length ? `; ${added.join(', ')} set on "${chosen.container.name}"` : '') +
      (kept.length ? `; kept the app's own ${kept.join(', ')}` : '') +
      (options.configMap ? `; ConfigMap ${options.configMap} mounted at ${CONFIG_DIR}` : ''),
  });
  fronted.push({ namespace, labels, appPort: chosen.port, appPortName: chosen.name });
  return true;
}

function sidecarContainer(options: InjectOptions, appPort: number, serviceName: string, workloadAttribute: string | undefined): Json {
  const attributes = ['k8s.pod.name=$(K8S_POD_NAME)', 'k8s.namespace.name=$(K8S_NAMESPACE_NAME)', 'k8s.node.name=$(K8S_NODE_NAME)'];
  if (workloadAttribute) attributes.push(workloadAttribute);
  const env: Json[] = [
    { name: 'TRACECAR_TARGET', value: `http://127.0.0.1:${appPort}` },
    { name: 'TRACECAR_PORT', value: String(options.port) },
    { name: 'TRACECAR_EGRESS_PORT', value: String(options.egressPort) },
    // The kubelet probes the pod IP, not loopback.
    { name: 'TRACECAR_ADMIN', value: `0.0.0.0:${options.adminPort}` },
    // The root file system is read-only, and the kubelet probes admin directly: no health file.
    { name: 'TRACECAR_HEALTH_FILE', value: '' },
    { name: 'OTEL_SERVICE_NAME', value: serviceName },
    { name: 'K8S_POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'K8S_NAMESPACE_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'K8S_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    // $(VAR) expands the downward-API variables above.
    { name: 'OTEL_RESOURCE_ATTRIBUTES', value: attributes.join(',') },
  ];
  if (options.otlpEndpoint) env.push({ name: 'OTEL_EXPORTER_OTLP_ENDPOINT', value: options.otlpEndpoint });
  if (options.otlpProtocol) env.push({ name: 'OTEL_EXPORTER_OTLP_PROTOCOL', value: options.otlpProtocol });
  const probe = (path: string, extra: Json): Json => ({ httpGet: { path, port: ADMIN_PORT_NAME }, ...extra });
  return {
    name: SIDECAR_NAME,
    image: options.image,
    // A native sidecar: starts before the app containers (after its startupProbe passes) and stops after them.
    restartPolicy: 'Always',
    ...(options.configMap ? { args: ['--config', `${CONFIG_DIR}/tracecar.yaml`] } : {}),
    env,
    ports: [
      { name: INGRESS_PORT_NAME, containerPort: options.port },
      { name: ADMIN_PORT_NAME, containerPort: options.adminPort },
    ],
    startupProbe: probe('/healthz', { periodSeconds: 1, failureThreshold: 30 }),
    readinessProbe: probe('/readyz', { periodSeconds: 5 }),
    livenessProbe: probe('/healthz', { periodSeconds: 10 }),
    resources: SIDECAR_RESOURCES,
    securityContext: SIDECAR_SECURITY_CONTEXT,
    ...(options.configMap ? { volumeMounts: [{ name: CONFIG_VOLUME, mountPath: CONFIG_DIR, readOnly: true }] } : {}),
  };
}

type ChosenPort = { container: Container; port: number; name?: string } | { reason: string };

/** The app's port: --target-port, else the port named "http", else the only TCP port of the Pod. */
function chooseAppPort(containers: Container[], targetPort: string | undefined, meta: Json, podMeta: unknown): ChosenPort {
  const all = containers.flatMap((container) =>
    (container.ports ?? []).filter((p) => (p.protocol ?? 'TCP') === 'TCP' && typeof p.containerPort === 'number').map((p) => ({ container, port: p.containerPort!, name: p.name })),
  );
  if (targetPort !== undefined) {
    if (/^\d+$/.test(targetPort)) {
      const port = Number(targetPort);
      const declared = all.find((p) => p.port === port);
      return declared ?? { container: defaultContainer(containers, meta, podMeta), port };
    }
    return all.find((p) => p.name === targetPort) ?? { reason: `no containerPort named "${targetPort}" (--target-port)` };
  }
  const http = all.filter((p) => p.name === 'http');
  if (http.length === 1) return http[0];
  if (all.length === 1) return all[0];
  if (all.length === 0) return { reason: 'no TCP containerPort declared: name the app port with --target-port' };
  const listed = all.map((p) => `${p.container.name}:${p.name ? `${p.name}=` : ''}${p.port}`).join(', ');
  return { reason: `several container ports (${listed}) and none named "http": choose one with --target-port` };
}

/** kubectl's rule: the kubectl.kubernetes.io/default-container annotation, else the first container. */
function defaultContainer(containers: Container[], meta: Json, podMeta: unknown): Container {
  const annotations = { ...(isObject(meta.annotations) ? meta.annotations : {}), ...(isObject(podMeta) && isObject(podMeta.annotations) ? podMeta.annotations : {}) };
  const wanted = annotations['kubectl.kubernetes.io/default-container'];
  return containers.find((c) => c.name === wanted) ?? containers[0];
}

/** Points a Service's ports that target a fronted app port at the sidecar's named port. */
function pointService(doc: Document, at: Path, svc: Json, fronted: FrontedPod[], notes: InjectNote[]): boolean {
  const meta = isObject(svc.metadata) ? svc.metadata : {};
  const namespace = typeof meta.namespace === 'string' ? meta.namespace : undefined;
  const object = `Service/${namespace ? `${namespace}/` : ''}${typeof meta.name === 'string' ? meta.name : '(unnamed)'}`;
  const spec = isObject(svc.spec) ? svc.spec : {};
  const selector = isObject(spec.selector) ? (spec.selector as Record<string, string>) : undefined;
  if (!selector || Object.keys(selector).length === 0) {
    notes.push({ object, action: 'skipped', detail: 'no selector: its endpoints are not Pods tracecar can front' });
    return false;
  }
  // An unset namespace is "the namespace it is applied to", so it matches either side.
  const pods = fronted.filter(
    (p) => (p.namespace === undefined || namespace === undefined || p.namespace === namespace) && Object.entries(selector).every(([k, v]) => p.labels[k] === v),
  );
  if (pods.length === 0) {
    notes.push({ object, action: 'unchanged', detail: 'selects no Pod template injected in this input' });
    return false;
  }
  const ports = (Array.isArray(spec.ports) ? spec.ports : []) as Array<{ port?: number; targetPort?: number | string; name?: string }>;
  const changed: string[] = [];
  let already = false;
  ports.forEach((p, i) => {
    const target = p.targetPort ?? p.port;
    if (target === INGRESS_PORT_NAME) already = true;
    else if (pods.some((pod) => target === pod.appPort || (pod.appPortName !== undefined && target === pod.appPortName))) {
      doc.setIn([...at, 'spec', 'ports', i, 'targetPort'], INGRESS_PORT_NAME);
      changed.push(`port ${p.port}${p.name ? ` (${p.name})` : ''}: targetPort ${target} → ${INGRESS_PORT_NAME}`);
    }
  });
  if (changed.length > 0) {
    notes.push({ object, action: 'updated', detail: changed.join('; ') });
    return true;
  }
  notes.push({ object, action: 'unchanged', detail: already ? 'already targets the tracecar sidecar' : "no port targets the fronted app port" });
  return false;
}

function portName(containers: Container[], port: number): string | undefined {
  for (const c of containers) for (const p of c.ports ?? []) if (p.containerPort === port && p.name) return p.name;
  return undefined;
}

function envValue(container: Container, name: string): string | undefined {
  const entry = (container.env as Array<{ name?: string; value?: unknown }> | undefined)?.find((e) => e.name === name);
  return typeof entry?.value === 'string' ? entry.value : undefined;
}

function getPath(obj: unknown, path: readonly string[]): unknown {
  let cur = obj;
  for (const key of path) cur = isObject(cur) ? cur[key] : undefined;
  return cur;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

