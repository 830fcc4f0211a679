/**
 * What a request says about itself as a gRPC call (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md):
 * the content type, the method from the path, the deadline from grpc-timeout.
 */

/** application/grpc, application/grpc+proto, application/grpc;charset=… — not gRPC-Web (application/grpc-web*). */
export function isGrpcContentType(value: string | string[] | undefined): boolean {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.length < 16) return false;
  if (v.slice(0, 16).toLowerCase() !== 'application/grpc') return false;
  const next = v.charCodeAt(16);
  return Number.isNaN(next) || next === 0x2b /* + */ || next === 0x3b /* ; */;
}

export interface GrpcMethod {
  /** package.Service */
  service: string;
  /** Method */
  method: string;
  /** package.Service/Method, the span name and rpc.method */
  full: string;
}

/** "/package.Service/Method" → its parts; undefined when the path is not of that form. */
export function parseGrpcPath(path: string): GrpcMethod | undefined {
  const slash = path.indexOf('/', 1);
  if (path.charCodeAt(0) !== 0x2f || slash <= 1 || slash === path.length - 1 || path.indexOf('/', slash + 1) !== -1 || path.includes('?')) return undefined;
  const service = path.slice(1, slash);
  const method = path.slice(slash + 1);
  return { service, method, full: `${service}/${method}` };
}

const TIMEOUT_UNITS: Record<string, number> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000001 };

/** grpc-timeout (1-8 digits and a unit H M S m u n) → milliseconds; undefined when absent or malformed. */
export function parseGrpcTimeout(value: string | string[] | undefined): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined) return undefined;
  const m = /^(\d{1,8})([HMSmun])$/.exec(v);
  if (!m) return undefined;
  return Number(m[1]) * TIMEOUT_UNITS[m[2]];
}
