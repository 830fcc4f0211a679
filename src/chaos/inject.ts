/**
 * Applies a FaultPlan to one exchange: the fault filter. Modelled on Envoy's fault filter (the
 * delay timer, the abort and the response rate limit live in one filter in front of the router)
 * and on undici's interceptors (lib/interceptor/dump.js: a handler wrapping the dispatch): the
 * request path hands over its own forwarding as `forward`, and the filter decides whether and
 * when it runs and what the response body flows through.
 *
 *   delay → abort (answer, upstream never called) | reset before the response | forward, with the
 *   body through throttle → slow body → reset after N bytes → client
 *
 * The request path calls this only when a plan exists: with chaos off or no fault rolled, it
 * forwards directly and pays nothing here.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pipeline, type Transform, type Writable } from 'node:stream';
import { cause, type FailureCause } from '../errors.js';
import { isGrpcError } from '../grpc/index.js';
import { resetAfter, slowBody, throttle } from './streams.js';
import type { FaultPlan } from './types.js';

/** One exchange as the fault filter sees it: the two ends and what the request path does next. */
export interface FaultedExchange {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  /** The request is a gRPC call: an abort answers a gRPC status. */
  readonly grpc: boolean;
  /** Adds the request path's own response headers to an answer the filter writes itself (abort). */
  addResponseHeaders(headers: string[]): void;
  /** Cut the exchange abruptly (HTTP/1.1: the connection; HTTP/2: this stream). */
  reset(): void;
  /** Answer a gRPC call with `code` in Trailers-Only form (and record it on the span). */
  answerGrpc(code: number, message: string, headers: string[]): void;
  /** No fault stops the exchange: forward it, writing the response body into `sink`. */
  forward(sink: Writable): void;
  /** The exchange ended in the filter: aborted, reset before the response, or the client left during the delay. */
  ended(outcome: FaultOutcome): void;
  /** A fault is about to cut a response already under way (reset after N bytes). */
  failed(cause: FailureCause): void;
}

export interface FaultOutcome {
  /** Status the client received (0: none). */
  status: number;
  /** The client left before the filter was done (during the delay). */
  clientAborted: boolean;
  /** Why the exchange failed, when a fault made it fail. */
  cause?: FailureCause;
}

const RESET_BEFORE_RESPONSE = Object.freeze(cause('TRC_ERR_CHAOS_RESET', 'chaos_reset', { when: 'before the response' }));
const CLIENT_LEFT_DURING_DELAY: FaultOutcome = Object.freeze({ status: 0, clientAborted: true });

export function injectFaults(plan: FaultPlan, x: FaultedExchange): void {
  if (!plan.delayMs) return afterDelay(plan, x);
  // A client that leaves during the delay ends the exchange; the timer goes with it.
  const timer = setTimeout(() => {
    x.res.off('close', onClose);
    afterDelay(plan, x);
  }, plan.delayMs);
  const onClose = (): void => {
    clearTimeout(timer);
    x.ended(CLIENT_LEFT_DURING_DELAY);
  };
  x.res.once('close', onClose);
}

function afterDelay(plan: FaultPlan, x: FaultedExchange): void {
  if (plan.abort) return abort(plan.abort, x);
  if (plan.reset && plan.reset.afterBytes === 0) {
    x.reset();
    return x.ended({ status: 0, clientAborted: false, cause: RESET_BEFORE_RESPONSE });
  }
  x.forward(responseStages(plan, x));
}

function abort(fault: NonNullable<FaultPlan['abort']>, x: FaultedExchange): void {
  if (x.grpc) {
    const headers: string[] = [];
    x.addResponseHeaders(headers);
    x.req.resume();
    x.res.once('finish', () => {
      // Errors by the gRPC server-side rule: UNAVAILABLE is, NOT_FOUND is not.
      const why = isGrpcError(fault.grpcStatus, 'server') ? cause('TRC_ERR_CHAOS_ABORT', 'chaos_abort', { status: `grpc-status ${fault.grpcStatus}` }) : undefined;
      x.ended({ status: 200, clientAborted: false, cause: why });
    });
    x.answerGrpc(fault.grpcStatus, fault.body.trim(), headers);
    return;
  }
  const headers = ['content-type', 'text/plain; charset=utf-8', 'content-length', String(Buffer.byteLength(fault.body))];
  x.addResponseHeaders(headers);
  x.req.resume();
  x.res.writeHead(fault.status, headers);
  x.res.end(fault.body, () => {
    // A 5xx the filter made is an error on the span; a 4xx or 2xx is the answer it was asked for.
    const why = fault.status >= 500 ? cause('TRC_ERR_CHAOS_ABORT', 'chaos_abort', { status: fault.status }) : undefined;
    x.ended({ status: fault.status, clientAborted: false, cause: why });
  });
}

/**
 * Where the response body goes: straight to the client, or through the body faults. The reset
 * stage goes last so exactly N bytes reach the client before the RST. The stages are joined with
 * stream.pipeline, so a client that leaves (or a reset) destroys every stage and its timers.
 */
function responseStages(plan: FaultPlan, x: FaultedExchange): Writable {
  const resetAt = plan.reset && plan.reset.afterBytes > 0 ? plan.reset.afterBytes : undefined;
  if (!plan.throttle && !plan.slowBody && resetAt === undefined) return x.res;
  const stages: Transform[] = [];
  if (plan.throttle) stages.push(throttle(plan.throttle.bytesPerSecond));
  if (plan.slowBody) stages.push(slowBody(plan.slowBody.chunkDelayMs));
  if (resetAt !== undefined) {
    stages.push(
      resetAfter(resetAt, () => {
        x.failed(cause('TRC_ERR_CHAOS_RESET', 'chaos_reset', { when: `after ${resetAt} bytes` }));
        x.reset();
      }),
    );
  }
  pipeline([...stages, x.res], () => {});
  return stages[0];
}
