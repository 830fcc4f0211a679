// Build step (after tsc): bundles the `tracecar` command. dist/cli/main.js (the package's `bin`) is
// replaced by an esbuild bundle of itself and everything it imports, tracecar's modules and the
// dependencies alike, split at its dynamic imports: main.js holds only the flag parser (--help and
// --version load nothing else), and each command (the sidecar, health, inject, validate) and each
// lazily loaded part (the OTLP receiver's codec) is a chunk next to it, loaded when used.
// Why: one file per command instead of ~400 modules to resolve, link and compile halves the time
// until the ingress listens and takes ~14 MiB off the idle RSS (docs/performance.md has the figures).
//
// The rest of dist/ is tsc's output as before: the library (`main`, `exports`), the export worker
// (dist/telemetry/export/worker.js, started by file), the assets. Code that finds a file relative to
// its own module (import.meta.url: the schema, the standalone validator, the viewer, the OTLP
// descriptor, the worker, createRequire) sees the URL of its tsc-built module, not of the chunk it
// was bundled into, so every such path resolves to the same file as without the bundle.
import { readFile } from 'node:fs/promises';
import { dirname, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const cliDir = fileURLToPath(new URL('../dist/cli/', import.meta.url));
const distDir = fileURLToPath(new URL('../dist/', import.meta.url));

/** import.meta.url in a dist/ module → the URL of that module, computed from the chunk it lands in. */
const ownModuleUrl = {
  name: 'own-module-url',
  setup(b) {
    b.onLoad({ filter: /\.js$/ }, async ({ path }) => {
      if (!path.startsWith(distDir)) return undefined;
      const text = await readFile(path, 'utf8');
      if (!text.includes('import.meta.url')) return undefined;
      // Every chunk is written to dist/cli/ (chunkNames below), so one relative path fits them all.
      const fromChunk = relative(cliDir, path).split('\\').join('/');
      return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(fromChunk)}, import.meta.url).href`), loader: 'js', resolveDir: dirname(path) };
    });
  },
};

/**
 * node:http is loaded with require(), not with an ES import, throughout the bundle. An ES import
 * of a built-in builds its ES module facade, which reads every export once, and node:http's
 * WebSocket, CloseEvent and MessageEvent exports are getters that load Node's bundled undici
 * (its fetch and WebSocket, ~1 MB of JavaScript) when read. Measured on Node 22.23: a process that
 * only imports node:http's createServer idles at 55.6 MiB RSS, one that requires it at 45.6 MiB;
 * the sidecar (default config) 1.5 s after start, 72.2 → 68.3 MiB. node:http becomes a one-line
 * CommonJS module of the bundle (`module.exports = require("node:http")`) that the importing
 * modules read through esbuild's interop, member by member. Other built-ins stay ES imports: by
 * require, node:util saved nothing and node:fs cost 1.2 MiB more (esbuild's interop object).
 */
const BY_REQUIRE = new Set(['http']);
const builtinsByRequire = {
  name: 'builtins-by-require',
  setup(b) {
    b.onResolve({ filter: /^[a-z_:/]+$/ }, (args) => {
      if (!BY_REQUIRE.has(args.path.replace(/^node:/, ''))) return undefined;
      if (args.kind === 'require-call') return { path: args.path, external: true };
      return { path: args.path, namespace: 'builtin-by-require' };
    });
    b.onLoad({ filter: /.*/, namespace: 'builtin-by-require' }, (args) => ({ contents: `module.exports = require(${JSON.stringify(args.path)});`, loader: 'js' }));
  },
};

const result = await build({
  entryPoints: [fileURLToPath(new URL('../dist/cli/main.js', import.meta.url))],
  outdir: cliDir,
  allowOverwrite: true,
  bundle: true,
  splitting: true,
  chunkNames: 'bundle-[name]-[hash]',
  format: 'esm',
  platform: 'node',
  target: 'node22',
  // ES module builds first where a package has one (the OpenTelemetry packages): esbuild drops
  // what is not used from those (all but a few of semantic-conventions' 170 KiB of names).
  mainFields: ['module', 'main'],
  // Less source to parse and keep in memory (measured: 2 MiB of idle RSS). Identifiers stay: stack
  // traces and pino's `err.type` name the real functions and classes; `node --enable-source-maps`
  // maps positions back to src/ through the .map written next to each chunk.
  minifyWhitespace: true,
  minifySyntax: true,
  sourcemap: true,
  sourcesContent: false, // positions are what stack traces need; the package stays small
  // Bundled CommonJS dependencies call require() for Node built-ins: give every chunk one.
  banner: { js: "import { createRequire as __tracecarCreateRequire } from 'node:module'; const require = __tracecarCreateRequire(import.meta.url);" },
  plugins: [ownModuleUrl, builtinsByRequire],
  logLevel: 'warning',
  logOverride: { 'direct-eval': 'silent' }, // protobufjs' optional-require probe, harmless here
  metafile: true,
});

const outputs = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.js'));
const kib = (n) => `${(n / 1024).toFixed(0)} KiB`;
console.log(`bundle-cli: ${outputs.map(([f, o]) => `${relative(distDir, f)} ${kib(o.bytes)}`).join(', ')}`);
