/** Durations and sizes in the x-tracecar-chaos grammar: `300ms`, `1.5s`, `300` (ms); `512b`, `10kb`, `1mb`, `4096` (bytes). */

const KIB = 1024;
const MIB = 1024 * 1024;

export function parseDurationMs(text: string): number | null {
  const t = text.trim().toLowerCase();
  let num = t;
  let scale = 1;
  if (t.endsWith('ms')) num = t.slice(0, -2);
  else if (t.endsWith('s')) {
    num = t.slice(0, -1);
    scale = 1000;
  }
  if (!/^\d+(\.\d+)?$/.test(num)) return null;
  return Math.round(Number(num) * scale);
}

/** kb/mb are binary (1024), as Envoy's throttle header is KiB/s. */
export function parseSize(text: string): number | null {
  const t = text.trim().toLowerCase();
  let num = t;
  let scale = 1;
  if (t.endsWith('kb')) {
    num = t.slice(0, -2);
    scale = KIB;
  } else if (t.endsWith('mb')) {
    num = t.slice(0, -2);
    scale = MIB;
  } else if (t.endsWith('b')) num = t.slice(0, -1);
  if (!/^\d+(\.\d+)?$/.test(num)) return null;
  return Math.round(Number(num) * scale);
}

export function formatSize(bytes: number): string {
  if (bytes > 0 && bytes % MIB === 0) return `${bytes / MIB}mb`;
  if (bytes > 0 && bytes % KIB === 0) return `${bytes / KIB}kb`;
  return `${bytes}b`;
}
