/**
 * The shipped deployment files, checked against their formats' published schemas:
 *  - deploy/docker-compose.yml (and the container test's override) against the Compose Specification's
 *    JSON schema (compose-spec/compose-spec schema/compose-spec.json, Apache-2.0), as shipped verbatim in
 *    the npm package dclint (schemas/compose.schema.json, fetched by its update-compose-schema script);
 *  - deploy/kubernetes/orders.yaml against the Kubernetes API (kubernetes-models, see helpers/kubernetes.ts).
 * Running them for real is deploy/container-test.sh (test/deploy/container.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse, parseAllDocuments } from 'yaml';
import { loadConfigText } from '../../src/config/load.js';
import { INJECT_DEFAULTS, SIDECAR_RESOURCES, SIDECAR_SECURITY_CONTEXT, injectManifests } from '../../src/kubernetes/inject.js';
import { unknownFields, validate, type Manifest } from '../helpers/kubernetes.js';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

function composeValidator() {
  const { $schema: _draft, ...schema } = JSON.parse(read('node_modules/dclint/schemas/compose.schema.json'));
  return new Ajv({ allErrors: true, strict: false }).compile(schema);
}

describe('deploy/docker-compose.yml', () => {
  const compose = parse(read('deploy/docker-compose.yml'));

  it('validates against the Compose Specification schema, as does the container test override', () => {
    const check = composeValidator();
    for (const file of ['deploy/docker-compose.yml', 'deploy/container-test/compose.override.yml']) {
      const ok = check(parse(read(file)));
      expect(check.errors ?? [], file).toEqual([]);
      expect(ok).toBe(true);
    }
    // And the schema does reject what it should.
    expect(check({ services: { orders: { image: 'x', network_mode: 1 } } })).toBe(false);
    expect(check({ services: { orders: { imgae: 'x' } } })).toBe(false);
  });

  it('Jaeger v2 all-in-one receives OTLP from both sidecars; each sidecar shares its app’s network namespace', () => {
    expect(compose.services.jaeger.image).toMatch(/^jaegertracing\/jaeger:2\.\d+\.\d+$/);
    expect(compose.services.jaeger.ports).toEqual(['127.0.0.1:${JAEGER_UI_PORT:-16686}:16686']);
    for (const [sidecar, app] of [['orders-sidecar', 'orders'], ['payments-sidecar', 'payments']]) {
      const s = compose.services[sidecar];
      expect(s.network_mode).toBe(`service:${app}`);
      expect(s.depends_on).toEqual([app, 'jaeger']);
      expect(s.build).toEqual({ context: '..', dockerfile: 'Dockerfile' });
      expect(s.environment).toMatchObject({ OTEL_SERVICE_NAME: app, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' });
    }
    // The built-in viewer stays reachable: admin on the pod network, published on the host's loopback.
    expect(compose.services['orders-sidecar'].environment.TRACECAR_ADMIN).toBe('0.0.0.0:9901');
    expect(compose.services.orders.ports).toContain('127.0.0.1:${ORDERS_ADMIN_PORT:-9901}:9901');
  });

  it('the override replaces only the Jaeger image (no registry here) and keeps its OTLP/HTTP port', () => {
    const override = parse(read('deploy/container-test/compose.override.yml'));
    expect(Object.keys(override.services)).toEqual(['jaeger']);
    expect(override.services.jaeger.command).toContain('0.0.0.0:4318');
  });
});

describe('deploy/kubernetes/orders.yaml', { timeout: 60_000 }, () => {
  const text = read('deploy/kubernetes/orders.yaml');
  const docs = parseAllDocuments(text).map((d) => d.toJS() as Manifest);
  const deployment = docs.find((d) => d.kind === 'Deployment') as any;
  const pod = deployment.spec.template.spec;
  const [sidecar] = pod.initContainers;

  it('validates against the Kubernetes API types (values and field names)', async () => {
    expect(docs.map((d) => d.kind)).toEqual(['ConfigMap', 'Deployment', 'Service']);
    expect(await validate(docs)).toEqual([]);
    expect(unknownFields(docs)).toEqual([]);
  });

  it('tracecar is a native sidecar with startup/readiness/liveness probes on admin, the measured resources, and a locked-down container', () => {
    expect(pod.initContainers).toHaveLength(1);
    expect(sidecar).toMatchObject({ name: 'tracecar', restartPolicy: 'Always', args: ['--config', '/etc/tracecar/tracecar.yaml'] });
    expect(pod.containers.map((c: { name: string }) => c.name)).toEqual(['orders']);
    for (const [probe, path] of [['startupProbe', '/healthz'], ['readinessProbe', '/readyz'], ['livenessProbe', '/healthz']]) {
      expect(sidecar[probe].httpGet).toEqual({ path, port: 'admin' });
    }
    expect(sidecar.ports).toEqual([{ name: 'http', containerPort: 8080 }, { name: 'admin', containerPort: 9901 }]);
    expect(sidecar.resources).toEqual(SIDECAR_RESOURCES);
    // The same as `tracecar inject` writes (whose test checks the values themselves).
    expect(sidecar.securityContext).toEqual(SIDECAR_SECURITY_CONTEXT);
  });

  it('the downward API feeds k8s.pod.name, k8s.namespace.name and k8s.node.name into OTEL_RESOURCE_ATTRIBUTES', () => {
    const env = Object.fromEntries(sidecar.env.map((e: any) => [e.name, e.value ?? e.valueFrom.fieldRef.fieldPath]));
    expect(env).toMatchObject({ K8S_POD_NAME: 'metadata.name', K8S_NAMESPACE_NAME: 'metadata.namespace', K8S_NODE_NAME: 'spec.nodeName' });
    expect(env.OTEL_RESOURCE_ATTRIBUTES).toBe('k8s.pod.name=$(K8S_POD_NAME),k8s.namespace.name=$(K8S_NAMESPACE_NAME),k8s.node.name=$(K8S_NODE_NAME),k8s.deployment.name=orders');
  });

  it("the ConfigMap's tracecar.yaml is a valid config matching the container's ports, and the Service targets the sidecar", () => {
    const configMap = docs.find((d) => d.kind === 'ConfigMap') as any;
    const config = loadConfigText(configMap.data['tracecar.yaml'], 'orders-tracecar/tracecar.yaml');
    expect(config.ingress.listen).toBe('8080');
    expect(config.admin.listen).toBe('0.0.0.0:9901');
    expect(config.egress.listen).toBe('15001');
    const app = pod.containers[0];
    expect(app.env).toContainEqual({ name: 'HTTP_PROXY', value: 'http://127.0.0.1:15001' });
    expect(app.env).toContainEqual({ name: 'http_proxy', value: 'http://127.0.0.1:15001' });
    const service = docs.find((d) => d.kind === 'Service') as any;
    expect(service.spec.ports).toEqual([{ name: 'http', port: 80, targetPort: 'http' }]);
  });

  it('`tracecar inject` recognises it as already injected and changes nothing', () => {
    const { output, notes } = injectManifests(text, { image: 'tracecar:0.1.0', ...INJECT_DEFAULTS });
    expect(output).toBe(text);
    expect(notes.find((n) => n.object === 'Deployment/orders')).toMatchObject({ action: 'unchanged' });
  });
});
