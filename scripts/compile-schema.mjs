// Build step (after tsc): writes dist/config/schema-validator.cjs, the config schema's validator as
// ajv standalone code, so that tracecar does not load ajv and compile the schema at every start.
// dist/config/schema.js uses it when it was built from the config/schema.json it reads.
import { writeFileSync } from 'node:fs';
import { standaloneValidatorSource } from '../dist/config/schema.js';

writeFileSync(new URL('../dist/config/schema-validator.cjs', import.meta.url), standaloneValidatorSource());
