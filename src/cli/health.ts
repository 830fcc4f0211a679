/**
 * `tracecar health`: exit 0 when the tracecar configured here is serving, 1 when it is not — the
 * container HEALTHCHECK. It runs as a separate process, so it must find the addresses the running
 * sidecar listens on:
 *   1. options given to `health` itself (--config, --port, --admin-port, --no-admin) win;
 *   2. otherwise the health file, when TRACECAR_HEALTH_FILE names one and it exists: the running
 *      tracecar writes its bound addresses there (as Envoy's --admin-address-path does), so flags
 *      given only to the main command (`docker run tracecar --no-admin …`) are honoured;
 *   3. otherwise the same config, environment and defaults the main command reads.
 * Checks: GET /healthz on the admin listener (when admin is on) and a TCP connect to the ingress,
 * so "healthy" means the listener callers use accepts connections, with or without admin.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { loadConfig } from '../config/load.js';
import { parseListen } from '../config/units.js';
import type { TracecarConfigInput } from '../config/types.js';
import type { BoundAddress } from '../proxy/listen.js';

export const HEALTH_FILE_VARIABLE = 'TRACECAR_HEALTH_FILE';

export interface HealthTargets {
  ingress: BoundAddress;
  admin: BoundAddress | null;
  /** The running process that wrote the health file, if read from one. */
  pid?: number;
  /** Where the addresses came from, for the report line. */
  source: string;
}

export interface HealthOptions {
  configFile?: string;
  overrides: TracecarConfigInput;
  /** Options named the address: skip the health file. */
  explicit: boolean;
  env: NodeJS.ProcessEnv;
}

export interface HealthResult {
  healthy: boolean;
  /** One line per check, e.g. "admin http://127.0.0.1:9901/healthz: 200". */
  checks: string[];
}

/** Written by the running sidecar once it listens; `health` reads it (see the module comment). */
export function writeHealthFile(file: string, addresses: { ingress: BoundAddress; admin?: BoundAddress }): void {
  const body = JSON.stringify({ pid: process.pid, ingress: addresses.ingress, admin: addresses.admin ?? null });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${body}\n`);
  renameSync(tmp, file); // atomic: a concurrent `health` never reads half a file
}

export function removeHealthFile(file: string): void {
  rmSync(file, { force: true });
}

export function healthTargets(options: HealthOptions): HealthTargets {
  const file = options.env[HEALTH_FILE_VARIABLE]?.trim();
  if (!options.explicit && file) {
    const fromFile = readHealthFile(file);
    if (fromFile) return fromFile;
  }
  const config = loadConfig({ file: options.configFile, env: options.env, cli: options.overrides });
  const ingress = parseListen(config.ingress.listen, '0.0.0.0');
  const admin = config.admin.listen === null ? null : parseListen(config.admin.listen, '127.0.0.1');
  const configFile = options.configFile ?? (options.env.TRACECAR_CONFIG?.trim() || undefined);
  return { ingress, admin, source: configFile ?? 'environment and defaults' };
}

function readHealthFile(file: string): HealthTargets | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined; // not written yet, or not writable where tracecar runs: fall back to the config
  }
  try {
    const data = JSON.parse(text) as { pid?: number; ingress: BoundAddress; admin: BoundAddress | null };
    if (typeof data.ingress?.port !== 'number') return undefined;
    return { ingress: data.ingress, admin: data.admin ?? null, pid: data.pid, source: file };
  } catch {
    return undefined;
  }
}

/** 0.0.0.0 and :: accept connections on loopback; probe there. */
function probeHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::') return '::1';
  return host;
}

function hostPort(a: BoundAddress): string {
  const host = probeHost(a.host);
  return host.includes(':') ? `[${host}]:${a.port}` : `${host}:${a.port}`;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function reason(err: NodeJS.ErrnoException): string {
  if (err.code === 'ECONNREFUSED') return 'connection refused';
  if (err.code === 'ETIMEDOUT') return 'timed out';
  return err.code ?? err.message;
}

function getHealthz(admin: BoundAddress, timeoutMs: number): Promise<{ ok: boolean; line: string }> {
  const url = `http://${hostPort(admin)}/healthz`;
  return new Promise((resolve) => {
    const req = request({ host: probeHost(admin.host), port: admin.port, path: '/healthz', timeout: timeoutMs, headers: { connection: 'close' } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ ok: res.statusCode === 200, line: `admin ${url}: ${res.statusCode}` }));
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    req.on('error', (err) => resolve({ ok: false, line: `admin ${url}: ${reason(err)}` }));
    req.end();
  });
}

function tcpConnect(ingress: BoundAddress, timeoutMs: number): Promise<{ ok: boolean; line: string }> {
  const where = `ingress ${hostPort(ingress)}`;
  return new Promise((resolve) => {
    const socket = connect({ host: probeHost(ingress.host), port: ingress.port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ ok: true, line: `${where}: accepts connections` });
    });
    socket.once('timeout', () => socket.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })));
    socket.once('error', (err) => resolve({ ok: false, line: `${where}: ${reason(err)}` }));
  });
}

export async function checkHealth(targets: HealthTargets, timeoutMs: number): Promise<HealthResult> {
  if (targets.pid !== undefined && !isAlive(targets.pid)) {
    return { healthy: false, checks: [`tracecar (pid ${targets.pid}, from ${targets.source}) is not running`] };
  }
  const probes = [tcpConnect(targets.ingress, timeoutMs)];
  if (targets.admin) probes.unshift(getHealthz(targets.admin, timeoutMs));
  const results = await Promise.all(probes);
  return { healthy: results.every((r) => r.ok), checks: results.map((r) => r.line) };
}
