// Baseline row: a bare undici reverse proxy, no tracing. Usage: node bench/bare-proxy.mjs TARGET_URL
import { createUndiciProxy, serve } from './lib/undici-proxy.mjs';

serve(createUndiciProxy(new URL(process.argv[2])));
process.on('SIGTERM', () => process.exit(0));
