import { readFileSync } from 'node:fs';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isTargetUrl } from './units.js';

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
let validator: ValidateFunction | undefined;

export function configSchema(): JsonSchema {
  schema ??= JSON.parse(readFileSync(SCHEMA_URL, 'utf8')) as JsonSchema;
  return schema;
}

function compile(): ValidateFunction {
  const ajv = new Ajv({ allErrors: true, verbose: true, strict: true, allowUnionTypes: true });
  // Annotation only: editors (vscode-json-languageservice) show it; our messages use it as "expected …".
  ajv.addKeyword({ keyword: 'errorMessage', schemaType: 'string' });
  ajv.addFormat('target-url', { type: 'string', validate: isTargetUrl });
  ajv.addFormat('target-url-or-empty', { type: 'string', validate: (s: string) => s === '' || isTargetUrl(s) });
  return ajv.compile(configSchema());
}

/** Validate a file-shaped value; returns ajv's errors (verbose: each carries its schema node). */
export function validateShape(value: unknown): ErrorObject[] {
  validator ??= compile();
  return validator(value) ? [] : [...(validator.errors ?? [])];
}

/** Follow a local "#/definitions/x" reference (one level is all the schema uses). */
export function deref(node: JsonSchema | undefined): JsonSchema | undefined {
  if (!node?.$ref) return node;
  const name = node.$ref.replace(/^#\/definitions\//, '');
  const target = configSchema().definitions?.[name];
  return target ? { ...target, ...node, $ref: undefined } : node;
}
