/**
 * Reading JSON answers with their declared type: the admin API's shapes are src/admin/api-types.ts;
 * the OTLP/HTTP receiver's answers (ExportTraceServiceResponse, google.rpc.Status) are below.
 */

/** ExportTraceServiceResponse in OTLP/JSON (partialSuccess only when spans were rejected). */
export interface OtlpJsonResponse {
  partialSuccess?: { rejectedSpans: string; errorMessage: string };
}

/** google.rpc.Status in OTLP/JSON, the body of a 4xx/5xx OTLP/HTTP answer. */
export interface RpcStatusBody {
  code: number;
  message: string;
}

/** The body of a fetch Response as the type the endpoint declares. */
export async function bodyOf<T>(res: Response): Promise<T> {
  return (await res.json()) as T;
}
