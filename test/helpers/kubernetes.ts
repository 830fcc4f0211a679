/**
 * Kubernetes manifests checked against the API's OpenAPI definitions, as packaged by kubernetes-models
 * (generated from the Kubernetes OpenAPI spec), in two ways:
 *  - validate(): kubernetes-models' runtime validators (types, enums, required fields);
 *  - unknownFields(): the same package's TypeScript types with the compiler's excess-property check,
 *    because the OpenAPI definitions allow unknown fields and a misspelt key ("restartpolicy") would
 *    otherwise pass — the API server drops it silently (or rejects it under kubectl's strict field validation).
 */
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

export type Manifest = { apiVersion: string; kind: string; metadata?: { name?: string }; [key: string]: unknown };

function label(m: Manifest): string {
  return `${m.kind}/${m.metadata?.name ?? '(unnamed)'}`;
}

/** A List's items, or the object itself. */
export function objectsOf(docs: unknown[]): Manifest[] {
  return docs.flatMap((d) => {
    const m = d as Manifest;
    return m.kind === 'List' && m.apiVersion === 'v1' ? (m.items as Manifest[]) : [m];
  });
}

/** Problems found by kubernetes-models' validators, one line each ("Deployment/web: data/spec/… must be …"). */
export async function validate(objects: Manifest[]): Promise<string[]> {
  const problems: string[] = [];
  for (const m of objects) {
    let Model: new (data: unknown) => { validate(): void };
    try {
      Model = (await import(/* @vite-ignore */ `kubernetes-models/${m.apiVersion}/${m.kind}`))[m.kind];
    } catch {
      problems.push(`${label(m)}: no model for ${m.apiVersion} ${m.kind}`);
      continue;
    }
    try {
      new Model(m).validate();
    } catch (err) {
      problems.push(`${label(m)}: ${(err as Error).message}`);
    }
  }
  return problems;
}

const COMPILER_OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  types: [],
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
};
/** The kubernetes-models declarations are parsed once per test file, not once per check. */
const parsedFiles = new Map<string, ts.SourceFile | undefined>();
let previousProgram: ts.Program | undefined;

/** Fields the Kubernetes types do not have, one line each. */
export function unknownFields(objects: Manifest[]): string[] {
  const fileName = fileURLToPath(new URL('../kubernetes/__manifests__.ts', import.meta.url));
  const lines = objects.map((m, i) => `import type { I${m.kind} as T${i} } from 'kubernetes-models/${m.apiVersion}/${m.kind}';`);
  const first = lines.length;
  objects.forEach((m, i) => lines.push(`export const o${i}: T${i} = ${JSON.stringify(m)};`));
  const code = lines.join('\n');
  const host = ts.createCompilerHost({});
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.getSourceFile = (f, language, ...rest) => {
    if (f === fileName) return ts.createSourceFile(f, code, language);
    let parsed = parsedFiles.get(f);
    if (!parsed) parsedFiles.set(f, (parsed = getSourceFile(f, language, ...rest)));
    return parsed;
  };
  host.fileExists = (f) => f === fileName || fileExists(f);
  const program = ts.createProgram([fileName], COMPILER_OPTIONS, host, previousProgram);
  previousProgram = program;
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line : -1;
    const which = line >= first ? label(objects[line - first]) : 'import';
    return `${which}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`;
  });
}
