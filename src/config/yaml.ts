/**
 * The yaml package, loaded on first use: a start from flags and environment alone parses no YAML,
 * and the admin listener renders /config as YAML only when it is asked for (about 70 modules and
 * 15–25 ms of start-up otherwise). yaml is CommonJS under Node, so require() returns, synchronously,
 * the same module instance `import 'yaml'` would.
 */
import { createRequire } from 'node:module';

type Yaml = typeof import('yaml');
let yaml: Yaml | undefined;

export function yamlLib(): Yaml {
  yaml ??= createRequire(import.meta.url)('yaml') as Yaml;
  return yaml;
}
