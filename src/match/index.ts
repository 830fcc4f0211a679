export { compileMatch } from './match.js';
export { compileHostGlob, compilePathGlob } from './glob.js';
export type { MatchInput, Matcher } from './types.js';
