import type { ChaosEvent, ChaosSide, FaultPlan } from './types.js';
import { formatSize } from '../config/units.js';

/** The faults chosen for one request, before the cap check turns them into a FaultPlan. */
export interface FaultDraft {
  rule: string;
  side: ChaosSide;
  source: 'rule' | 'header';
  delay?: { ms: number; distribution: string };
  abort?: { status: number; body: string; grpcStatus: number };
  reset?: { afterBytes: number };
  throttle?: { bytesPerSecond: number };
  slowBody?: { chunkDelayMs: number };
}

/** Drops faults that cannot coexist: abort excludes the rest but delay; reset-before-response excludes body faults. */
export function normalizeDraft(d: FaultDraft): FaultDraft {
  if (d.abort !== undefined) {
    delete d.reset;
    delete d.throttle;
    delete d.slowBody;
  } else if (d.reset !== undefined && d.reset.afterBytes === 0) {
    delete d.throttle;
    delete d.slowBody;
  }
  return d;
}

export function isEmptyDraft(d: FaultDraft): boolean {
  return d.delay === undefined && d.abort === undefined && d.reset === undefined && d.throttle === undefined && d.slowBody === undefined;
}

export function createPlan(d: FaultDraft, onRelease: () => void): FaultPlan {
  let released = false;
  const common = { 'tracecar.chaos.rule': d.rule, 'tracecar.chaos.side': d.side, 'tracecar.chaos.source': d.source };
  const parts: string[] = [];
  const events: ChaosEvent[] = [];
  if (d.delay !== undefined) {
    parts.push(`delay=${d.delay.ms}ms`);
    events.push({
      name: 'tracecar.chaos.delay',
      attributes: { ...common, 'tracecar.chaos.delay.ms': d.delay.ms, 'tracecar.chaos.delay.distribution': d.delay.distribution },
    });
  }
  if (d.abort !== undefined) {
    parts.push(`abort=${d.abort.status}`);
    if (d.abort.grpcStatus !== 14) parts.push(`grpc=${d.abort.grpcStatus}`);
    events.push({
      name: 'tracecar.chaos.abort',
      attributes: { ...common, 'tracecar.chaos.abort.status': d.abort.status, 'tracecar.chaos.abort.grpc_status': d.abort.grpcStatus },
    });
  }
  if (d.reset !== undefined) {
    parts.push(d.reset.afterBytes === 0 ? 'reset' : `reset=${formatSize(d.reset.afterBytes)}`);
    events.push({ name: 'tracecar.chaos.reset', attributes: { ...common, 'tracecar.chaos.reset.after_bytes': d.reset.afterBytes } });
  }
  if (d.throttle !== undefined) {
    parts.push(`throttle=${formatSize(d.throttle.bytesPerSecond)}`);
    events.push({
      name: 'tracecar.chaos.throttle',
      attributes: { ...common, 'tracecar.chaos.throttle.bytes_per_second': d.throttle.bytesPerSecond },
    });
  }
  if (d.slowBody !== undefined) {
    parts.push(`slowbody=${d.slowBody.chunkDelayMs}ms`);
    events.push({
      name: 'tracecar.chaos.slow_body',
      attributes: { ...common, 'tracecar.chaos.slow_body.chunk_delay_ms': d.slowBody.chunkDelayMs },
    });
  }
  if (d.side !== 'ingress') parts.push(`side=${d.side}`);
  parts.push(`rule=${d.rule}`);
  const description = parts.join(';');

  const plan: FaultPlan = {
    ...(d.delay === undefined ? {} : { delayMs: d.delay.ms }),
    ...(d.abort === undefined ? {} : { abort: Object.freeze({ ...d.abort }) }),
    ...(d.reset === undefined ? {} : { reset: Object.freeze({ ...d.reset }) }),
    ...(d.throttle === undefined ? {} : { throttle: Object.freeze({ ...d.throttle }) }),
    ...(d.slowBody === undefined ? {} : { slowBody: Object.freeze({ ...d.slowBody }) }),
    rule: d.rule,
    side: d.side,
    describe: () => description,
    events: () => events.map((e) => ({ name: e.name, attributes: { ...e.attributes } })),
    release(): void {
      if (released) return;
      released = true;
      onRelease();
    },
  };
  return Object.freeze(plan);
}
