// `node --import ./record-loads.mjs …`: records the URL of every module the process loads, ES
// modules and CommonJS alike (node:module registerHooks, Node ≥ 22.15), and writes them as a JSON
// array to the file named by TRACECAR_RECORD_LOADS when the process exits; Node's own modules
// follow as `builtin:<name>` (process.moduleLoadList: those compiled, `NativeModule` entries).
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const loaded = [];
registerHooks({
  load(url, context, nextLoad) {
    loaded.push(url);
    return nextLoad(url, context);
  },
});
function write() {
  const builtins = process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => `builtin:${m.slice('NativeModule '.length)}`);
  writeFileSync(process.env.TRACECAR_RECORD_LOADS, JSON.stringify([...loaded, ...builtins]));
}
process.on('exit', write);
// TRACECAR_RECORD_LOADS_ON=SIGUSR2: also written when that signal comes (what is loaded so far).
if (process.env.TRACECAR_RECORD_LOADS_ON) process.on(process.env.TRACECAR_RECORD_LOADS_ON, write);
