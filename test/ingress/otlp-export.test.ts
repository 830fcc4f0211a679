import { afterEach, describe, expect, it } from 'vitest';
import { request } from 'undici';
import { status as grpcStatus } from '@grpc/grpc-js';
import { startOtlpReceiver, type OtlpReceiver } from '../helpers/otlp-receiver.js';
import { startTracecar, startUpstream, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import { waitFor } from '../helpers/wait.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT = '00f067aa0ba902b7';

describe('SERVER spans reach a real OTLP gRPC collector', () => {
  let receiver: OtlpReceiver | undefined;
  let app: Upstream | undefined;
  let tc: RunningTracecar | undefined;
  afterEach(async () => {
    await tc?.close();
    await app?.close();
    await receiver?.close();
    tc = app = receiver = undefined;
  });

  {
    it('exports names, kinds, parent ids, attributes and status', async () => {
      receiver = await startOtlpReceiver();
      app = await startUpstream((req, res) => {
        res.statusCode = req.url?.startsWith('/fail') ? 500 : 200;
        res.end('done');
      });
      tc = await startTracecar({
        service: { name: 'checkout' },
        ingress: { target: app.url },
        export: { otlp: { endpoint: receiver.endpoint }, scheduledDelay: 50 },
      });
      const ok = await request(`${tc.url}/cart/991`, { headers: { traceparent: `00-${TRACE}-${PARENT}-01`, 'x-request-id': 'r-1' } });
      await ok.body.text();
      const bad = await request(`${tc.url}/fail`);
      await bad.body.text();
      const spans = await receiver.waitForSpans(2, 10_000);
      const okSpan = spans.find((s) => s.traceId === TRACE)!;
      expect(okSpan).toBeDefined();
      expect(okSpan.name).toBe('GET /cart/:id');
      expect(okSpan.kind).toBe('server');
      expect(okSpan.parentSpanId).toBe(PARENT);
      expect(okSpan.attributes['http.response.status_code']).toBe(200);
      expect(okSpan.attributes['tracecar.correlation_id']).toBe('r-1');
      expect(okSpan.resource['service.name']).toBe('checkout');
      expect(okSpan.scope).toBe('tracecar');
      expect(okSpan.status.code).toBe('unset');
      expect(okSpan.endTimeUnixNano).toBeGreaterThan(okSpan.startTimeUnixNano);
      const failSpan = spans.find((s) => s.name === 'GET /fail')!;
      expect(failSpan.status.code).toBe('error');
      expect(failSpan.parentSpanId).toBe('');
    });
  }

  it('an unreachable collector never fails a request; failed exports are counted and retried', async () => {
    app = await startUpstream();
    // Nothing listens on port 9 (discard) on loopback here: every export fails.
    tc = await startTracecar({
      ingress: { target: app.url },
      export: { otlp: { endpoint: 'http://127.0.0.1:9', timeout: 500 }, scheduledDelay: 20, retry: { initialBackoff: 50, maxElapsed: 300 } },
    });
    for (let i = 0; i < 20; i++) {
      const res = await request(`${tc.url}/still-works/${i}`);
      expect(res.statusCode).toBe(200);
      await res.body.text();
    }
    await waitFor(() => (tc!.tracecar.exporter!.stats().failedExports > 0 ? true : undefined), 10_000, 'a failed export');
    // Retried until retry.maxElapsed, then dropped and counted.
    await waitFor(() => (tc!.tracecar.exporter!.stats().droppedByReason.retries_exhausted > 0 ? true : undefined), 10_000, 'a batch given up');
    expect(tc.tracecar.exporter!.stats().retried).toBeGreaterThan(0);
  });

  it('a collector answering UNAVAILABLE never fails a request', async () => {
    receiver = await startOtlpReceiver({ failWith: grpcStatus.UNAVAILABLE });
    app = await startUpstream();
    tc = await startTracecar({
      ingress: { target: app.url },
      export: { otlp: { endpoint: receiver.endpoint }, scheduledDelay: 20, retry: { maxElapsed: 200 } },
    });
    for (let i = 0; i < 10; i++) {
      const res = await request(`${tc.url}/x`);
      expect(res.statusCode).toBe(200);
      await res.body.text();
    }
    await waitFor(() => (tc!.tracecar.exporter!.stats().failedExports > 0 ? true : undefined), 10_000, 'a failed export');
  });
});
