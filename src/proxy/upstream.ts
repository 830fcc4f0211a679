import { Agent } from 'undici';
import type { TimeoutConfig } from '../config/types.js';

/**
 * The keep-alive connection pool towards upstreams. One Agent per listener side: it keeps a Pool
 * per origin, so the egress forward proxy reuses connections to every host it reaches.
 */
export function createUpstreamAgent(timeouts: TimeoutConfig): Agent {
  return new Agent({
    connect: { timeout: timeouts.connect },
    keepAliveTimeout: 4_000,
    keepAliveMaxTimeout: 60_000,
    headersTimeout: timeouts.response,
    bodyTimeout: timeouts.idle,
    // Headers such as Host and Transfer-Encoding are ours to pass as received.
    allowH2: false,
  });
}
