import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type { Ajv, CodeOptions, ErrorObject, ValidateFunction } from 'ajv';
import { isTargetUrl } from './units.js';

const require = createRequire(import.meta.url);

/**
 * config/schema.json is the single description of the file's shape: ajv validates with it and
 * editors show its descriptions. It sits at the package root (src/config and dist/config are
 * both two levels below), and ships in the npm package.
 */
export const SCHEMA_URL = new URL('../../config/schema.json', import.meta.url);

export type JsonSchema = {
  $ref?: string;
  type?: string | string[];
  title?: string;
  description?: string;
  errorMessage?: string;
  enum?: unknown[];
  pattern?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: boolean | JsonSchema;
  items?: JsonSchema;
  required?: string[];
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  minItems?: number;
  minLength?: number;
  default?: unknown;
  definitions?: Record<string, JsonSchema>;
  [k: string]: unknown;
};

let schema: JsonSchema | undefined;
let schemaTextHash: string | undefined;
let validator: ValidateFunction | undefined;

function readSchema(): void {
  const text = readFileSync(SCHEMA_URL, 'utf8');
  schema = JSON.parse(text) as JsonSchema;
  schemaTextHash = createHash('sha256').update(text).digest('hex');
}

export function configSchema(): JsonSchema {
  if (!schema) readSchema();
  return schema!;
}

/** Of config/schema.json as read: which schema a standalone validator was built from. */
function schemaHash(): string {
  if (!schemaTextHash) readSchema();
  return schemaTextHash!;
}

/** The formats the schema names; the validator built at build time takes these same functions. */
const FORMATS = {
  'target-url': { type: 'string', validate: isTargetUrl },
  'target-url-or-empty': { type: 'string', validate: (s: string) => s === '' || isTargetUrl(s) },
} as const;

/** ajv set up for the schema: the one place its options, keywords and formats are named. */
function schemaAjv(code?: CodeOptions): Ajv {
  const { Ajv } = require('ajv') as typeof import('ajv');
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true, code });
  // Annotation only: editors (vscode-json-languageservice) show it; our messages use it as "expected …".
  ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
  for (const [name, format] of Object.entries(FORMATS)) ajv.addFormat(name, format);
  return ajv;
}

/**
 * The validator as JavaScript (ajv standalone code), for the build: scripts/compile-schema.mjs
 * writes it to dist/config/schema-validator.cjs. Compiling the schema at start-up costs ~100 ms
 * of CPU and loads all of ajv; the generated module needs only two small ajv runtime helpers.
 * It exports a function of the formats (FORMATS above) and the hash of the schema it was built from.
 */
export function standaloneValidatorSource(): string {
  const { _ } = require('ajv') as typeof import('ajv');
  const standaloneCode = (require('ajv/dist/standalone/index.js') as typeof import('ajv/dist/standalone/index.js')).default;
  const ajv = schemaAjv({ source: true, formats: _`formats` });
  const code = standaloneCode(ajv, ajv.compile(configSchema()));
  return [
    '"use strict";',
    '// Generated at build time by scripts/compile-schema.mjs from config/schema.json (ajv standalone code). Do not edit.',
    `exports.schemaHash = ${JSON.stringify(schemaHash())};`,
    'exports.createValidator = function createValidator(formats) {',
    '  const module = { exports: {} };',
    // ASCII only (\u escapes inside its string literals), so V8 holds the source as one byte a character.
    code.replace(/[^\x00-\x7f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
    '  return module.exports;',
    '};',
    '',
  ].join('\n');
}

/** Where the build writes the standalone validator: next to this module in dist/ (never in src/). */
export const STANDALONE_VALIDATOR_URL = new URL('./schema-validator.cjs', import.meta.url);

/** The schema compiled by ajv in this process (what the standalone code replaces). */
export function compileValidator(): ValidateFunction {
  return schemaAjv().compile(configSchema());
}

/**
 * A standalone validator module (standaloneValidatorSource written to a file), or undefined when
 * there is none or it was built from another schema than the one read now.
 */
export function standaloneValidator(file: URL = STANDALONE_VALIDATOR_URL): ValidateFunction | undefined {
  if (!existsSync(file)) return undefined;
  const built = require(fileURLToPath(file)) as { schemaHash: string; createValidator(formats: typeof FORMATS): ValidateFunction };
  return built.schemaHash === schemaHash() ? built.createValidator(FORMATS) : undefined;
}

/** Validate a file-shaped value; returns ajv's errors (verbose: each carries its schema node). */
export function validateShape(value: unknown): ErrorObject[] {
  // The build's standalone code in dist/; ajv at run time from the TypeScript sources (tests) or
  // when config/schema.json changed since the build.
  validator ??= standaloneValidator() ?? compileValidator();
  return validator(value) ? [] : [...(validator.errors ?? [])];
}

/** Follow a local "#/definitions/x" reference (one level is all the schema uses). */
export function deref(node: JsonSchema | undefined): JsonSchema | undefined {
  if (!node?.$ref) return node;
  const name = node.$ref.replace(/^#\/definitions\//, '');
  const target = configSchema().definitions?.[name];
  return target ? { ...target, ...node, $ref: undefined } : node;
}
