// Processes for the harness: spawning rows (pinned when taskset is available), forking the helper
// processes (upstream, OTLP sink), and reading a process's CPU and memory from /proc.
import { execFileSync, fork, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

let clkTck;
/** Linux USER_HZ: the unit of utime/stime in /proc/<pid>/stat. */
export function ticksPerSecond() {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/**
 * CPU seconds used so far by the whole process: utime + stime of /proc/<pid>/stat, which the
 * kernel sums over every thread of the thread group, live or exited (worker threads, libuv pool,
 * GC helpers) — what a container's CPU limit counts.
 */
export function cpuSeconds(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / ticksPerSecond(); // fields 14 and 15 of proc(5)
}

/** Resident set now (VmRSS) and its peak since start (VmHWM), MiB. */
export function memoryMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (key) => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  return { rss: kib('VmRSS') / 1024, hwm: kib('VmHWM') / 1024 };
}

/** Whether rows can be pinned: taskset present and at least two CPUs. */
export function canPin() {
  if (process.platform !== 'linux' || availableParallelism() < 2) return false;
  return !spawnSync('taskset', ['--version']).error;
}

/** Pins this process (all its threads) to `cpu`; children inherit it unless spawned with their own. */
export function pinSelf(cpu) {
  execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(process.pid)], { stdio: 'ignore' });
}

const children = new Set();
process.on('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

/**
 * Starts a row's process and resolves once it reports its port: `{"port":N}` on stdout (bench
 * proxies) or tracecar's `ingress http://host:N` banner line on stderr. stdout stays a pipe that
 * is drained and counted in lines (the access log of tracecar rows).
 */
export function spawnRow(script, args, { cpu, env, nodeFlags = [], cwd }) {
  const argv = [...nodeFlags, script, ...args];
  const child =
    cpu === undefined
      ? spawn(process.execPath, argv, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('taskset', ['-c', String(cpu), process.execPath, ...argv], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const proc = { child, pid: child.pid, port: 0, stdoutLines: 0, stderr: '' };
  let head = '';
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  proc.exited = exited.then((r) => {
    children.delete(child);
    return r;
  });
  proc.ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} ${args.join(' ')}: no port after 60 s\n${proc.stderr}`)), 60_000);
    const done = (port) => {
      clearTimeout(timer);
      proc.port = port;
      resolve(proc);
    };
    child.stdout.on('data', (chunk) => {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) proc.stdoutLines++;
      if (proc.port === 0 && head.length < 4096) {
        head += chunk.toString('utf8');
        const m = /^\{"port":(\d+)\}$/m.exec(head);
        if (m) done(Number(m[1]));
      }
    });
    child.stderr.on('data', (chunk) => {
      if (proc.stderr.length < 16_384) proc.stderr += chunk.toString('utf8');
      const m = proc.port === 0 && /ingress\s+http:\/\/\S+?:(\d+)/.exec(proc.stderr);
      if (m) done(Number(m[1]));
    });
    exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${script} ${args.join(' ')} exited (${code ?? signal}) before it was ready\n${proc.stderr}`));
    });
  });
  proc.ready.catch(() => {});
  return proc;
}

/** Stops a row process with SIGTERM (SIGKILL after `graceMs`) and waits for it. */
export async function stop(proc, graceMs = 10_000) {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  proc.child.kill('SIGTERM');
  const timer = setTimeout(() => proc.child.kill('SIGKILL'), graceMs);
  await proc.exited;
  clearTimeout(timer);
}

/**
 * Forks a helper (upstream, OTLP sink) that sends `{port}` first and then answers `{type}` requests
 * one reply each, in order.
 */
export async function forkHelper(file) {
  const child = fork(file, [], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  children.add(child);
  const port = await new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`${file} exited ${code}`)));
  });
  let chain = Promise.resolve();
  const ask = (type) => {
    const reply = chain.then(
      () =>
        new Promise((resolve) => {
          child.once('message', resolve);
          child.send({ type });
        }),
    );
    chain = reply.catch(() => {});
    return reply;
  };
  const close = () => {
    children.delete(child);
    child.kill();
  };
  return { child, port, ask, close };
}
