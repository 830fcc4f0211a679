/**
 * The export worker: owns conversion (SpanRecord → ReadableSpan), protobuf encoding and the
 * OTLP exporter (gRPC or HTTP), so none of that runs on the thread that serves requests. It receives
 * batches from worker-host.ts and answers each with a result message.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createInlineSender } from './inline-sender.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';
import type { ExportBackendOptions } from './types.js';

const port = parentPort;
if (port === null) throw new Error('the export worker (telemetry/export/worker.js) must run as a worker thread');

const sender = createInlineSender(workerData as ExportBackendOptions);
const reply = (message: FromWorker): void => port.postMessage(message);

port.on('message', (message: ToWorker) => {
  if (message.type === 'export') {
    sender.send(message.spans).then(
      () => reply({ type: 'result', id: message.id, ok: true }),
      (err: unknown) =>
        reply({ type: 'result', id: message.id, ok: false, error: err instanceof Error ? err.message : String(err) }),
    );
  } else if (message.type === 'shutdown') {
    sender
      .shutdown(message.timeoutMs)
      .catch(() => undefined)
      .then(() => {
        reply({ type: 'shutdown-done' });
        port.close();
      });
  }
});

reply({ type: 'ready' });
