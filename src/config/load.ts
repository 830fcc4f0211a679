import { readFileSync } from 'node:fs';
import { DEFAULTS } from './defaults.js';
import { envLayer } from './env.js';
import { explainErrors, type RawProblem } from './explain.js';
import { interpolateDocument, maskExpressions, type Env } from './interpolate.js';
import { deepFreeze, mergeLayers } from './merge.js';
import { normalizeLayer } from './normalize.js';
import { appendTracesPath, isHttpProtocol, otlpTracesUrl } from './otlp-endpoint.js';
import { ConfigError, formatPath, type ConfigProblem } from './problems.js';
import { validateShape } from './schema.js';
import { semanticProblems } from './semantic.js';
import { locate } from './source-map.js';
import { describeSyntaxError } from './syntax-error.js';
import type { TracecarConfig, TracecarConfigInput } from './types.js';
import { yamlLib } from './yaml.js';

export interface LoadOptions {
  /** Config file; defaults to TRACECAR_CONFIG from `env`; none = defaults + env + CLI only. */
  file?: string;
  /** Environment for OTEL_*, TRACECAR_* and ${VAR} interpolation. @default process.env */
  env?: Env;
  /** CLI flags, already in the effective shape (milliseconds, "host:port" strings). */
  cli?: TracecarConfigInput;
}

/**
 * read → ${ENV} interpolation → YAML parse (positions kept) → schema → units → merge
 * (CLI > env > file > defaults) → OTLP endpoint resolved for its protocol → deep freeze. Throws ConfigError (a TracecarError with `problems`):
 * TRC_ERR_CONFIG_READ, TRC_ERR_CONFIG_PARSE or TRC_ERR_CONFIG_INVALID.
 */
export function loadConfig(options: LoadOptions = {}): TracecarConfig {
  const env = options.env ?? process.env;
  const file = options.file ?? (env.TRACECAR_CONFIG?.trim() || undefined);
  if (file === undefined) return build(undefined, env, options.cli);
  return loadConfigText(readConfigFile(file), file, env, options.cli);
}

/** The same pipeline on text already in memory; `fileName` is only used in messages. */
export function loadConfigText(text: string, fileName: string, env: Env = {}, cli?: TracecarConfigInput): TracecarConfig {
  return build({ text, fileName }, env, cli);
}

export function readConfigFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : String((err as Error).message);
    throw new ConfigError('TRC_ERR_CONFIG_READ', [{ file, line: 0, col: 0, path: '', message: `cannot read config file: ${why}` }], { cause: err });
  }
}

function build(source: { text: string; fileName: string } | undefined, env: Env, cli: TracecarConfigInput | undefined): TracecarConfig {
  const problems: ConfigProblem[] = [];
  const fileLayer = source ? fileLayerFrom(source.text, source.fileName, env, problems) : {};
  const { layer: envLayerValue, endpointVariable } = envLayerFrom(env, problems);
  const cliLayer = cli ? checkedLayer(cli, problems, (p) => ({ file: 'command line', line: 0, col: 0, path: formatPath(p.path), message: p.message })) : {};
  if (problems.length > 0) throw new ConfigError('TRC_ERR_CONFIG_INVALID', problems);
  const merged = mergeLayers<TracecarConfig>(DEFAULTS, fileLayer, envLayerValue, cliLayer);
  const endpointIsBase = endpointVariable === 'OTEL_EXPORTER_OTLP_ENDPOINT' && cliLayer.export?.otlp?.endpoint === undefined;
  merged.export.otlp.endpoint = resolveOtlpEndpoint(merged.export.otlp.endpoint, merged.export.otlp.protocol, endpointIsBase);
  return deepFreeze(merged);
}

/**
 * The URL spans are sent to, once the protocol is known (it may come from another layer than the
 * endpoint): OTEL_EXPORTER_OTLP_ENDPOINT is a base URL that gets /v1/traces for http/*, every
 * other endpoint is used as given (a bare http/* URL with no path gets /v1/traces). gRPC: as given.
 */
function resolveOtlpEndpoint(endpoint: string, protocol: TracecarConfig['export']['otlp']['protocol'], isBase: boolean): string {
  if (!endpoint || !isHttpProtocol(protocol)) return endpoint;
  return isBase ? appendTracesPath(endpoint) : otlpTracesUrl(endpoint, protocol);
}

/** Parse, interpolate and validate the file; problems carry line and column. */
function fileLayerFrom(text: string, fileName: string, env: Env, problems: ConfigProblem[]): TracecarConfigInput {
  const { LineCounter, parseDocument } = yamlLib();
  const lineCounter = new LineCounter();
  const doc = parseDocument(maskExpressions(text), { lineCounter, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0] ?? doc.warnings[0];
  if (yamlError) {
    const { line, col, message } = describeSyntaxError(doc, lineCounter, yamlError);
    throw new ConfigError('TRC_ERR_CONFIG_PARSE', [{ file: fileName, line, col, path: '', message }]);
  }

  const located = (p: RawProblem): ConfigProblem => ({ file: fileName, ...locate(doc, lineCounter, p.path, p.at), path: formatPath(p.path), message: p.message });
  const interpolation = interpolateDocument(doc, env).map((p) => located({ ...p, at: 'value' }));
  const raw: unknown = doc.contents === null ? {} : doc.toJS({ maxAliasCount: 100 });

  const own: ConfigProblem[] = [...interpolation];
  const layer = checkedLayer(raw, own, located, new Set(interpolation.map((p) => p.path)));
  own.sort((a, b) => a.line - b.line || a.col - b.col);
  problems.push(...own);
  return layer;
}

/** The checked env layer, and which variable (if any) set export.otlp.endpoint. */
function envLayerFrom(env: Env, problems: ConfigProblem[]): { layer: TracecarConfigInput; endpointVariable: string | undefined } {
  const layer = envLayer(env);
  const endpointVariable = layer.sourceOf(['export', 'otlp', 'endpoint']);
  for (const p of layer.problems) problems.push({ file: `env ${p.variable}`, line: 0, col: 0, path: formatPath(p.path), message: p.message });
  const checked = checkedLayer(layer.value, problems, (p) => ({
    file: `env ${layer.sourceOf(p.path) ?? '(environment)'}`,
    line: 0,
    col: 0,
    path: formatPath(p.path),
    message: p.message,
  }));
  return { layer: checked, endpointVariable };
}

/** Schema, then (when the shape is right) semantic checks, then units. Problems go to `problems`. */
function checkedLayer(
  raw: unknown,
  problems: ConfigProblem[],
  toProblem: (p: RawProblem) => ConfigProblem,
  skipPaths: ReadonlySet<string> = new Set(),
): TracecarConfigInput {
  const shape = explainErrors(validateShape(raw), raw);
  const found = shape.length > 0 ? shape : semanticProblems(raw);
  const relevant = found.map(toProblem).filter((p) => !skipPaths.has(p.path));
  problems.push(...relevant);
  return found.length > 0 || skipPaths.size > 0 ? {} : normalizeLayer(raw);
}
