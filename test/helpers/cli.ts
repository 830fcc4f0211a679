import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from './wait.js';

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Environment without OTEL_* / TRACECAR_* leaking in from the machine running the tests. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('OTEL_') && !k.startsWith('TRACECAR_')) env[k] = v;
  return { ...env, ...extra };
}

export function runCli(args: string[], options: { env?: Record<string, string>; timeoutMs?: number; cwd?: string; nodeArgs?: string[] } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, ...args], { env: cleanEnv(options.env), cwd: options.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => (stdout += c));
    child.stderr.on('data', (c) => (stderr += c));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`tracecar ${args.join(' ')} did not exit within ${options.timeoutMs ?? 10_000} ms\n${stderr}`));
    }, options.timeoutMs ?? 10_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

export interface RunningCli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Starts the CLI and resolves once the start banner names the ingress address. */
export async function startCli(
  args: string[],
  options: { env?: Record<string, string>; nodeArgs?: string[] } = {},
): Promise<RunningCli & { ingressPort: number; adminPort?: number }> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), CLI, ...args], { env: cleanEnv(options.env) });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c) => (stdout += c));
  child.stderr!.on('data', (c) => (stderr += c));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const banner = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`tracecar exited with ${child.exitCode} before it started:\n${stderr}`);
      return /ingress\s+https?:\/\/[^:]+:(\d+)/.exec(stderr) ?? undefined;
    },
    10_000,
    () => `the start banner; tracecar did not start:\n${stderr}`,
  );
  const ingressPort = Number(banner[1]);
  const admin = /admin\s+http:\/\/[^:]+:(\d+)/.exec(stderr);
  return { child, stdout: () => stdout, stderr: () => stderr, exited, ingressPort, adminPort: admin ? Number(admin[1]) : undefined };
}
