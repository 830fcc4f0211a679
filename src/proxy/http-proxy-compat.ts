/**
 * http-proxy 1.18 reads `util._extend` when it loads, which makes Node print DEP0060 on the
 * first WebSocket. Same semantics (own enumerable keys copied onto target), no warning.
 * Import this module before 'http-proxy'.
 */
import util from 'node:util';

(util as unknown as { _extend: (target: object, source: object | null) => object })._extend = (target, source) =>
  source === null || typeof source !== 'object' ? target : Object.assign(target, source);
