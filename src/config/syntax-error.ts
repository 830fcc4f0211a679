import type { Document, LineCounter, YAMLError } from 'yaml';
import type { Position } from './source-map.js';
import { yamlLib } from './yaml.js';

/**
 * Where and what a YAML syntax error is. The parser notices an unclosed quote or bracket where the
 * text runs out, often lines later; pointing at the opening quote or bracket is more useful.
 */
export function describeSyntaxError(doc: Document, lineCounter: LineCounter, error: YAMLError): Position & { message: string } {
  const message = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '');
  let offset = error.pos[0];
  if (/closing|end with a/.test(message)) offset = openingBefore(doc, offset) ?? offset;
  return { ...lineCounter.linePos(offset), message: `YAML syntax error: ${message}` };
}

function openingBefore(doc: Document, offset: number): number | undefined {
  const { isCollection, isScalar, Scalar, visit } = yamlLib();
  let best: number | undefined;
  visit(doc, (_key, node) => {
    const range = (node as { range?: [number, number, number] }).range;
    if (!range || range[0] >= offset || offset > range[2]) return;
    const opens =
      (isScalar(node) && (node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE)) || (isCollection(node) && node.flow === true);
    if (opens && (best === undefined || range[0] > best)) best = range[0];
  });
  return best;
}
