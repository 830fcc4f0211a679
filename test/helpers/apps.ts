/**
 * Tiny uninstrumented apps for end-to-end tests: they carry no tracing code and forward only
 * the headers they are told to, exactly like the services tracecar exists for.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface CallOptions {
  /** Forward proxy (HTTP_PROXY style): the request goes here in absolute form. */
  proxy?: string;
  /** Headers copied from the incoming request (names lowercase); nothing else is forwarded. */
  forward?: readonly string[];
  /** @default 'GET' */
  method?: string;
  /** A JSON request body (sent with content-type application/json). */
  json?: unknown;
}

/** The app's own outgoing call: `url` through `proxy` if given, with only the chosen headers copied. */
export function callOut(url: string, incoming: IncomingHttpHeaders, options: CallOptions = {}): Promise<{ status: number; body: string }> {
  const target = new URL(url);
  const headers: Record<string, string> = { host: target.host };
  for (const name of options.forward ?? []) {
    const v = incoming[name];
    if (typeof v === 'string') headers[name] = v;
  }
  const via = options.proxy ? new URL(options.proxy) : target;
  const body = options.json === undefined ? undefined : JSON.stringify(options.json);
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: via.hostname, port: via.port, method: options.method ?? 'GET', path: options.proxy ? target.href : target.pathname + target.search, headers, agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}
