import { afterEach, describe, expect, it } from 'vitest';
import { createWorkerSender, type WorkerSender } from '../../../src/telemetry/export/worker-host.js';
import { startOtlpReceiver, type OtlpReceiver } from '../../helpers/otlp-receiver.js';
import { manySpans } from './span-fixtures.js';

let receiver: OtlpReceiver | undefined;
let sender: WorkerSender | undefined;
afterEach(async () => {
  await sender?.shutdown(1_000);
  await receiver?.close();
  sender = undefined;
  receiver = undefined;
});

const backend = (endpoint: string) => ({
  otlp: { endpoint, protocol: 'grpc' as const, headers: {}, timeout: 2_000, compression: 'none' as const },
  resource: { serviceName: 'orders', attributes: {} },
  scopeVersion: '0.0.1',
});

describe('export worker host', () => {
  it('a worker that fails to start: its batches are exported inline, mode turns inline, the failure is reported', async () => {
    receiver = await startOtlpReceiver();
    const errors: Error[] = [];
    const broken = new URL(`data:text/javascript,${encodeURIComponent('throw new Error("worker boom")')}`);
    sender = createWorkerSender(backend(receiver.endpoint), (err) => errors.push(err), broken);
    await sender.send(manySpans(3));
    expect((await receiver.waitForSpans(3)).length).toBe(3);
    expect(sender.mode()).toBe('inline');
    expect(errors.map((e) => e.message).join('\n')).toMatch(/worker boom/);
    await sender.send(manySpans(2));
    expect(receiver.spans()).toHaveLength(5);
  });

  it('reports the export result of each batch from the worker', async () => {
    receiver = await startOtlpReceiver();
    sender = createWorkerSender(backend(receiver.endpoint), () => {});
    await sender.send(manySpans(2));
    expect(receiver.spans()).toHaveLength(2);
    receiver.setFailure();
    await expect(sender.send(manySpans(1))).rejects.toThrow(/UNAVAILABLE|14/);
    expect(sender.mode()).toBe('worker');
  });
});
