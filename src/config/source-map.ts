import type { Document, LineCounter, Node } from 'yaml';
import { yamlLib } from './yaml.js';

export interface Position {
  line: number;
  col: number;
}

/**
 * Finds where a path of the parsed document is written, so a problem found on the plain JS value
 * (by ajv or a semantic check) points at the right line and column of the file.
 * `at: 'key'` points at the key (unknown keys, "missing required key" on its parent);
 * `at: 'value'` at the value, falling back to the key when the value is empty.
 * When the path does not exist (a missing key) the deepest existing ancestor is used.
 */
export function locate(
  doc: Document,
  lineCounter: LineCounter,
  path: ReadonlyArray<string | number>,
  at: 'key' | 'value' = 'value',
): Position {
  const { isAlias, isMap, isPair, isSeq } = yamlLib();
  let node: unknown = doc.contents;
  let best: number | undefined = rangeStart(node);
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    if (isAlias(node)) node = node.resolve(doc);
    let keyStart: number | undefined;
    let next: unknown;
    if (isMap(node)) {
      const pair = node.items.find((p) => isPair(p) && keyText(p.key) === String(seg));
      if (!pair) break;
      keyStart = rangeStart(pair.key);
      next = pair.value;
    } else if (isSeq(node) && typeof seg === 'number') {
      next = node.items[seg];
      if (next === undefined) break;
    } else {
      break;
    }
    const last = i === path.length - 1;
    const valueStart = rangeStart(next);
    best = last && at === 'key' ? (keyStart ?? valueStart ?? best) : (valueStart ?? keyStart ?? best);
    node = next;
  }
  if (best === undefined) return { line: 1, col: 1 };
  const { line, col } = lineCounter.linePos(best);
  return { line, col };
}

function keyText(key: unknown): string | undefined {
  if (yamlLib().isScalar(key)) return String(key.value);
  return undefined;
}

function rangeStart(node: unknown): number | undefined {
  const range = (node as Node | null | undefined)?.range;
  if (!range) return undefined;
  // An empty value (`key:` with nothing after it) has a zero-length range at the end of the line.
  if (yamlLib().isScalar(node) && node.value === null && range[0] === range[1]) return undefined;
  return range[0];
}
