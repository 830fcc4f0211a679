import type { IncomingHttpHeaders } from 'node:http';
import type { MatchConfig } from '../config/types.js';
import { parseBaggage } from '../propagation/baggage.js';
import { compileHostGlob, compileNameGlob, compilePathGlob } from './glob.js';
import type { MatchInput, Matcher } from './types.js';

type Condition = (req: MatchInput) => boolean;

/**
 * Compiles a MatchConfig once into a predicate. All listed conditions must hold (AND); an empty
 * config matches every request.
 *   method  — case-insensitive, one or a list (any of them)
 *   path    — glob, see glob.ts (`*` one segment, `**` any number incl. zero)
 *   host    — glob, `*.example.com` allowed, port ignored unless given
 *   headers — name (case-insensitive) → exact value, or "*" = present with any value
 *   baggage — W3C baggage key → exact (percent-decoded) value, read by propagation's parser:
 *             the same bounds and duplicate rule (last wins) as everywhere else
 *   grpc    — gRPC calls only: service (package.Service) and/or method, `*` any characters
 */
export function compileMatch(match: MatchConfig): Matcher {
  const conditions: Condition[] = [];
  const parts: string[] = [];

  if (match.method !== undefined) {
    const methods = new Set((Array.isArray(match.method) ? match.method : [match.method]).map((m) => m.toUpperCase()));
    conditions.push((req) => methods.has(req.method.toUpperCase()));
    parts.push(`method=${[...methods].join('|')}`);
  }
  if (match.path !== undefined) {
    const test = compilePathGlob(match.path);
    conditions.push((req) => test(req.path));
    parts.push(`path=${match.path}`);
  }
  if (match.host !== undefined) {
    const test = compileHostGlob(match.host);
    conditions.push((req) => test(req.host));
    parts.push(`host=${match.host}`);
  }
  for (const [rawName, expected] of Object.entries(match.headers ?? {})) {
    const name = rawName.toLowerCase();
    conditions.push(expected === '*' ? (req) => req.headers[name] !== undefined : (req) => headerEquals(req.headers, name, expected));
    parts.push(`header:${name}=${expected}`);
  }
  if (match.grpc !== undefined) {
    const service = match.grpc.service === undefined ? undefined : compileNameGlob(match.grpc.service);
    const method = match.grpc.method === undefined ? undefined : compileNameGlob(match.grpc.method);
    conditions.push((req) => req.grpc !== undefined && (service === undefined || service(req.grpc.service)) && (method === undefined || method(req.grpc.method)));
    parts.push(`grpc=${match.grpc.service ?? '*'}/${match.grpc.method ?? '*'}`);
  }
  const baggage = Object.entries(match.baggage ?? {});
  if (baggage.length > 0) {
    conditions.push((req) => {
      const entries = req.baggage ?? parseBaggage(req.headers.baggage);
      for (const [key, value] of baggage) if (entries.get(key) !== value) return false;
      return true;
    });
    for (const [key, value] of baggage) parts.push(`baggage:${key}=${value}`);
  }

  const description = `{${parts.join(', ')}}`;
  const matcher = (req: MatchInput): boolean => {
    for (const condition of conditions) if (!condition(req)) return false;
    return true;
  };
  matcher.toString = () => description;
  return matcher;
}

function headerEquals(headers: IncomingHttpHeaders, name: string, expected: string): boolean {
  const actual = headers[name];
  if (actual === undefined) return false;
  return Array.isArray(actual) ? actual.includes(expected) : actual === expected;
}
