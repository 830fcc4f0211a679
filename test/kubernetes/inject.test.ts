import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import { INJECT_DEFAULTS, SIDECAR_RESOURCES, injectManifests, type InjectOptions } from '../../src/kubernetes/inject.js';
import { runCli } from '../helpers/cli.js';
import { objectsOf, unknownFields, validate, type Manifest } from '../helpers/kubernetes.js';

const fixture = (name: string) => new URL(`./fixtures/${name}`, import.meta.url);
const read = (name: string) => readFileSync(fixture(name), 'utf8');
const OPTIONS: InjectOptions = { image: 'registry.example.com/tracecar:0.1.0', ...INJECT_DEFAULTS, otlpEndpoint: 'http://otel-collector.observability:4317' };

function docs(text: string): Manifest[] {
  return parseAllDocuments(text).map((d) => d.toJS() as Manifest).filter((d) => d !== null);
}
type Container = { name: string; env?: Array<{ name: string; value?: string }>; [k: string]: unknown };
type PodSpec = { initContainers?: Container[]; containers: Container[]; volumes?: unknown[] };
function podSpec(m: Manifest): PodSpec {
  const spec = m.spec as Record<string, any>;
  if (m.kind === 'Pod') return spec as PodSpec;
  if (m.kind === 'CronJob') return spec.jobTemplate.spec.template.spec;
  return spec.template.spec;
}
const env = (c: Container, name: string) => c.env?.find((e) => e.name === name)?.value;
const find = (all: Manifest[], kind: string, name: string) => all.find((m) => m.kind === kind && m.metadata?.name === name)!;

describe('tracecar inject on realistic manifests', { timeout: 60_000 }, () => {
  for (const name of ['web.yaml', 'ledger.yaml', 'batch.yaml']) {
    it(`${name}: the injected output is what fixtures/${name.replace('.yaml', '.injected.yaml')} shows, valid against the Kubernetes API types, and injecting again changes nothing`, async () => {
      const once = injectManifests([{ text: read(name), source: name }], OPTIONS);
      await expect(once.output).toMatchFileSnapshot(`./fixtures/${name.replace('.yaml', '.injected.yaml')}`);
      const objects = objectsOf(docs(once.output));
      expect(await validate(objects)).toEqual([]);
      expect(unknownFields(objects)).toEqual([]);

      const twice = injectManifests([{ text: once.output, source: 'once' }], OPTIONS);
      expect(twice.output).toBe(once.output);
      expect(twice.notes.filter((n) => n.action !== 'unchanged' && n.action !== 'skipped')).toEqual([]);
    });
  }

  it('web: a Deployment with two containers and several ports — the port named http is fronted, only its Service port moves', () => {
    const { output, notes } = injectManifests(read('web.yaml'), OPTIONS);
    const all = docs(output);
    const spec = podSpec(find(all, 'Deployment', 'web'));
    const [sidecar] = spec.initContainers!;
    expect(sidecar).toMatchObject({
      name: 'tracecar',
      image: 'registry.example.com/tracecar:0.1.0',
      restartPolicy: 'Always',
      ports: [
        { name: 'tracecar', containerPort: 15080 },
        { name: 'tracecar-admin', containerPort: 9901 },
      ],
      startupProbe: { httpGet: { path: '/healthz', port: 'tracecar-admin' } },
      readinessProbe: { httpGet: { path: '/readyz', port: 'tracecar-admin' } },
      livenessProbe: { httpGet: { path: '/healthz', port: 'tracecar-admin' } },
      resources: SIDECAR_RESOURCES,
      securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, seccompProfile: { type: 'RuntimeDefault' } },
    });
    expect(env(sidecar, 'TRACECAR_TARGET')).toBe('http://127.0.0.1:8080');
    expect(env(sidecar, 'TRACECAR_ADMIN')).toBe('0.0.0.0:9901');
    expect(env(sidecar, 'OTEL_SERVICE_NAME')).toBe('web'); // app.kubernetes.io/name
    expect(env(sidecar, 'OTEL_EXPORTER_OTLP_ENDPOINT')).toBe('http://otel-collector.observability:4317');
    expect(env(sidecar, 'OTEL_RESOURCE_ATTRIBUTES')).toBe(
      'k8s.pod.name=$(K8S_POD_NAME),k8s.namespace.name=$(K8S_NAMESPACE_NAME),k8s.node.name=$(K8S_NODE_NAME),k8s.deployment.name=web',
    );
    // The downward API feeds the variables that OTEL_RESOURCE_ATTRIBUTES expands; they come before it.
    const names = sidecar.env!.map((e) => e.name);
    expect(sidecar.env!.filter((e: any) => e.valueFrom).map((e: any) => [e.name, e.valueFrom.fieldRef.fieldPath])).toEqual([
      ['K8S_POD_NAME', 'metadata.name'],
      ['K8S_NAMESPACE_NAME', 'metadata.namespace'],
      ['K8S_NODE_NAME', 'spec.nodeName'],
    ]);
    expect(names.indexOf('K8S_NODE_NAME')).toBeLessThan(names.indexOf('OTEL_RESOURCE_ATTRIBUTES'));

    const [app, shipper] = spec.containers;
    expect(env(app, 'HTTP_PROXY')).toBe('http://127.0.0.1:15001');
    expect(env(app, 'http_proxy')).toBe('http://127.0.0.1:15001'); // curl and wget read only this one
    expect(env(app, 'NO_PROXY')).toBe('127.0.0.1,localhost');
    expect(env(app, 'no_proxy')).toBe('127.0.0.1,localhost');
    expect(shipper.env).toBeUndefined(); // only the fronted app's calls go through egress
    expect((find(all, 'Service', 'web').spec as any).ports).toEqual([
      { name: 'http', port: 80, targetPort: 'tracecar' },
      { name: 'metrics', port: 9090, targetPort: 'metrics' },
    ]);
    // Documents inject does not change come out byte for byte, comments included.
    expect(output.startsWith(read('web.yaml').split('\n---\n')[0])).toBe(true);
    expect(notes.map((n) => `${n.object} ${n.action}`)).toEqual(['ConfigMap/shop/web-settings skipped', 'Deployment/shop/web injected', 'Service/shop/web updated']);
    expect(notes[2].detail).toBe('port 80 (http): targetPort http → tracecar');
  });

  it("ledger: a StatefulSet's unnamed port, chosen in the default container; the Service listed first still moves; the app's own NO_PROXY is kept", () => {
    const { output, notes } = injectManifests(read('ledger.yaml'), OPTIONS);
    const all = docs(output);
    const spec = podSpec(find(all, 'StatefulSet', 'ledger'));
    expect(env(spec.initContainers![0], 'TRACECAR_TARGET')).toBe('http://127.0.0.1:7000');
    expect(env(spec.initContainers![0], 'OTEL_RESOURCE_ATTRIBUTES')).toContain('k8s.statefulset.name=ledger');
    const ledger = spec.containers.find((c) => c.name === 'ledger')!;
    expect(ledger.env).toEqual([
      { name: 'NO_PROXY', value: '127.0.0.1,localhost,.svc.cluster.local' },
      { name: 'HTTP_PROXY', value: 'http://127.0.0.1:15001' },
      { name: 'http_proxy', value: 'http://127.0.0.1:15001' },
    ]);
    expect(spec.containers.find((c) => c.name === 'backup-agent')!.env).toBeUndefined();
    expect((find(all, 'Service', 'ledger').spec as any).ports).toEqual([{ port: 7000, targetPort: 'tracecar' }]);
    expect(notes.find((n) => n.object === 'StatefulSet/ledger')!.detail).toBe(
      'sidecar :15080 fronts container "ledger" port 7000; HTTP_PROXY, http_proxy set on "ledger"; kept the app\'s own NO_PROXY',
    );
  });

  it('batch: CronJob (sidecar before its own init container), bare Pod, and a List with a DaemonSet and its Service', () => {
    const { output, notes } = injectManifests(read('batch.yaml'), OPTIONS);
    const all = docs(output);
    const cron = podSpec(find(all, 'CronJob', 'nightly-report'));
    expect(cron.initContainers!.map((c) => c.name)).toEqual(['tracecar', 'migrate']);
    expect(env(cron.initContainers![0], 'OTEL_RESOURCE_ATTRIBUTES')).toContain('k8s.cronjob.name=nightly-report');
    const pod = podSpec(find(all, 'Pod', 'debug-echo'));
    expect(env(pod.initContainers![0], 'TRACECAR_TARGET')).toBe('http://127.0.0.1:5678');
    expect(env(pod.initContainers![0], 'OTEL_RESOURCE_ATTRIBUTES')).not.toContain('k8s.pod.name=debug'); // from the downward API, not the name
    const list = all.find((m) => m.kind === 'List')!;
    const [daemonSet, service] = (list.items as Manifest[]);
    expect(env(podSpec(daemonSet).initContainers![0], 'OTEL_RESOURCE_ATTRIBUTES')).toContain('k8s.daemonset.name=node-agent');
    // No targetPort means the port itself (8080, the agent's "http").
    expect((service.spec as any).ports).toEqual([{ name: 'http', port: 8080, targetPort: 'tracecar' }]);
    expect(notes.map((n) => `${n.object} ${n.action}`)).toEqual([
      'CronJob/nightly-report injected',
      'Pod/debug-echo injected',
      'DaemonSet/monitoring/node-agent injected',
      'Service/monitoring/node-agent updated',
    ]);
  });

  it('what cannot be injected passes through unchanged, each with its reason', () => {
    const text = read('unsupported.yaml');
    const { output, notes } = injectManifests(text, OPTIONS);
    expect(output).toBe(text);
    expect(notes.map((n) => `${n.object} ${n.action}: ${n.detail}`)).toEqual([
      'Ingress/shop skipped: Ingress has no Pod template: passed through unchanged',
      'HorizontalPodAutoscaler/web skipped: HorizontalPodAutoscaler has no Pod template: passed through unchanged',
      "DaemonSet/node-exporter skipped: hostNetwork: the sidecar's ports would be bound on the node",
      'Deployment/two-ports skipped: several container ports (api:public=8080, api:internal=8081) and none named "http": choose one with --target-port',
      'Job/import skipped: no TCP containerPort declared: name the app port with --target-port',
      'Deployment/admin-ui skipped: port 9901 is used by container "admin-ui": choose another with --admin-port',
      'Deployment/legacy skipped: has a regular "tracecar" container: remove it to inject the native sidecar',
      '(document) skipped: not a Kubernetes object (no kind): passed through unchanged',
      'Service/external-db skipped: no selector: its endpoints are not Pods tracecar can front',
    ]);
    // The reasons name the fix: with it, the same objects inject.
    const injected = (options: Partial<InjectOptions>) => injectManifests(text, { ...OPTIONS, ...options }).notes.filter((n) => n.action === 'injected').map((n) => n.object);
    expect(injected({ targetPort: 'public' })).toEqual(['Deployment/two-ports']);
    expect(injected({ adminPort: 9902 })).toEqual(['Deployment/admin-ui']);
    // A port number applies to every Pod template of the input, declared or not.
    expect(injected({ targetPort: '8080' })).toEqual(['Deployment/two-ports', 'Job/import']);
  });

  it('options: --config-map mounts tracecar.yaml read-only and starts with --config; --port/--admin-port/--egress-port move the sidecar', async () => {
    const { output } = injectManifests(read('web.yaml'), { ...OPTIONS, configMap: 'web-tracecar', port: 18080, adminPort: 19901, egressPort: 18001, otlpProtocol: 'http/protobuf' });
    const all = docs(output);
    const spec = podSpec(find(all, 'Deployment', 'web'));
    const sidecar = spec.initContainers![0];
    expect(sidecar.args).toEqual(['--config', '/etc/tracecar/tracecar.yaml']);
    expect(sidecar.volumeMounts).toEqual([{ name: 'tracecar-config', mountPath: '/etc/tracecar', readOnly: true }]);
    expect(spec.volumes).toEqual([{ name: 'tracecar-config', configMap: { name: 'web-tracecar' } }]);
    expect(sidecar.ports).toEqual([
      { name: 'tracecar', containerPort: 18080 },
      { name: 'tracecar-admin', containerPort: 19901 },
    ]);
    expect([env(sidecar, 'TRACECAR_PORT'), env(sidecar, 'TRACECAR_ADMIN'), env(sidecar, 'TRACECAR_EGRESS_PORT'), env(sidecar, 'OTEL_EXPORTER_OTLP_PROTOCOL')]).toEqual([
      '18080',
      '0.0.0.0:19901',
      '18001',
      'http/protobuf',
    ]);
    expect(env(spec.containers[0], 'HTTP_PROXY')).toBe('http://127.0.0.1:18001');
    const objects = objectsOf(all);
    expect(await validate(objects)).toEqual([]);
    expect(unknownFields(objects)).toEqual([]);
  });

  it("an app's own proxy variable in either case is kept, and its other case is not added", () => {
    const manifest = `apiVersion: v1
kind: Pod
metadata: { name: curler }
spec:
  containers:
    - name: curler
      image: curlimages/curl
      ports: [{ containerPort: 8080 }]
      env:
        - { name: http_proxy, value: "http://corporate-proxy:3128" }
`;
    const { output, notes } = injectManifests(manifest, OPTIONS);
    const app = podSpec(find(docs(output), 'Pod', 'curler')).containers[0];
    expect(app.env).toEqual([
      { name: 'http_proxy', value: 'http://corporate-proxy:3128' },
      { name: 'NO_PROXY', value: '127.0.0.1,localhost' },
      { name: 'no_proxy', value: '127.0.0.1,localhost' },
    ]);
    expect(notes[0].detail).toBe('sidecar :15080 fronts container "curler" port 8080; NO_PROXY, no_proxy set on "curler"; kept the app\'s own http_proxy');
  });

  it('the validators catch what they are here to catch (an unknown field, a bad enum)', async () => {
    const { output } = injectManifests(read('web.yaml'), OPTIONS);
    const [misspelt, badEnum] = [find(docs(output), 'Deployment', 'web'), find(docs(output), 'Deployment', 'web')];
    (podSpec(misspelt).initContainers![0] as any).restartpolicy = 'Always';
    (podSpec(badEnum).initContainers![0] as any).imagePullPolicy = 'Sometimes';
    expect(await validate([misspelt])).toEqual([]); // the OpenAPI definitions allow unknown fields…
    expect(unknownFields([misspelt])).toEqual([`Deployment/web: Object literal may only specify known properties, and '"restartpolicy"' does not exist in type 'IContainer'.`]);
    expect((await validate([badEnum])).join('\n')).toContain('imagePullPolicy must be equal to one of the allowed values');
  });
});

describe('tracecar inject (CLI)', () => {
  it('reads files as one stream, writes YAML to stdout and what it did to stderr', async () => {
    const res = await runCli(['inject', fixture('web.yaml').pathname, fixture('ledger.yaml').pathname, '--image', 'tracecar:test']);
    expect(res.code).toBe(0);
    const all = docs(res.stdout);
    expect(all.map((m) => `${m.kind}/${m.metadata?.name}`)).toEqual(['ConfigMap/web-settings', 'Deployment/web', 'Service/web', 'Service/ledger', 'StatefulSet/ledger']);
    expect(podSpec(find(all, 'Deployment', 'web')).initContainers![0].image).toBe('tracecar:test');
    expect(res.stderr.trim().split('\n')).toEqual([
      'tracecar inject: ConfigMap/shop/web-settings skipped: ConfigMap has no Pod template: passed through unchanged',
      'tracecar inject: Deployment/shop/web injected: sidecar :15080 fronts container "web" port http (8080); HTTP_PROXY, http_proxy, NO_PROXY, no_proxy set on "web"',
      'tracecar inject: StatefulSet/ledger injected: sidecar :15080 fronts container "ledger" port 7000; HTTP_PROXY, http_proxy set on "ledger"; kept the app\'s own NO_PROXY',
      'tracecar inject: Service/shop/web updated: port 80 (http): targetPort http → tracecar',
      'tracecar inject: Service/ledger updated: port 7000: targetPort 7000 → tracecar',
    ]);
  });

  it('reads stdin (no FILE, or "-"), and the default image is tracecar:VERSION', async () => {
    const { spawnSync } = await import('node:child_process');
    const { CLI, cleanEnv } = await import('../helpers/cli.js');
    const version = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
    for (const args of [['inject'], ['inject', '-']]) {
      const res = spawnSync(process.execPath, [CLI, ...args], { input: read('batch.yaml'), env: cleanEnv(), encoding: 'utf8' });
      expect(res.status).toBe(0);
      expect(podSpec(find(docs(res.stdout), 'Pod', 'debug-echo')).initContainers![0].image).toBe(`tracecar:${version}`);
    }
  });

  it('bad input: file:line and exit 1 with nothing on stdout; bad options: exit 2', async () => {
    const missing = await runCli(['inject', '/nonexistent/app.yaml']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe('tracecar: cannot read /nonexistent/app.yaml: no such file\n');

    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const bad = join(mkdtempSync(join(tmpdir(), 'inject-')), 'bad.yaml');
    writeFileSync(bad, 'apiVersion: v1\nkind: Pod\n---\nkind: Service\nmetadata: name: web\n');
    const parse = await runCli(['inject', bad]);
    expect(parse.code).toBe(1);
    expect(parse.stdout).toBe('');
    expect(parse.stderr).toMatch(new RegExp(`^tracecar: ${bad}:5: Nested mappings are not allowed in compact mappings\n`));
    expect(parse.stderr).toContain('hint: tracecar inject reads Kubernetes YAML');

    const usage = await runCli(['inject', '--port', '70000', bad]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--port must be a port 1-65535, got "70000"');
    const unknown = await runCli(['inject', '--sidecar', 'x']);
    expect(unknown.code).toBe(2);
    const help = await runCli(['inject', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('tracecar inject FILE… [options]');
  });
});
