/**
 * DNS-rebinding guard for the admin listener. A web page on any site can point a name it controls
 * at 127.0.0.1 and then read same-origin answers from it; the one thing it cannot forge is the Host
 * header, which carries its own name. So while the admin listener is bound to a loopback address
 * (the default), it answers only requests whose Host is a loopback name or IP. When the config
 * binds it elsewhere (0.0.0.0 in a Kubernetes pod, a LAN address), any Host is served: the
 * operator chose to expose it.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** 127.0.0.0/8, ::1 and their IPv4-mapped / long forms. */
export function isLoopbackIp(ip: string): boolean {
  let a = ip.trim().toLowerCase();
  const zone = a.indexOf('%');
  if (zone >= 0) a = a.slice(0, zone);
  if (isIPv4(a)) return a.startsWith('127.');
  if (!isIPv6(a)) return false;
  const mapped = /^(?:0{0,4}:){0,5}(?::|0{0,4}:)?ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return isIPv4(mapped[1]) && mapped[1].startsWith('127.');
  // Expand "::" and compare with 0:0:0:0:0:0:0:1.
  const [head, tail] = a.includes('::') ? a.split('::') : [a, undefined];
  const left = head ? head.split(':') : [];
  const right = tail === undefined ? [] : tail ? tail.split(':') : [];
  const groups = tail === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  if (groups.length !== 8) return false;
  return groups.slice(0, 7).every((g) => /^0{1,4}$/.test(g)) && /^0{0,3}1$/.test(groups[7]);
}

/**
 * The host name (IPv6 without brackets) of a Host header, lowercased, without a trailing dot;
 * undefined when the header is malformed.
 */
export function hostOfHeader(header: string): string | undefined {
  const h = header.trim().toLowerCase();
  if (h === '') return undefined;
  let name: string;
  let rest: string;
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    if (end < 0) return undefined;
    name = h.slice(1, end);
    rest = h.slice(end + 1);
    if (!isIPv6(name)) return undefined;
  } else {
    const colon = h.indexOf(':');
    if (colon !== h.lastIndexOf(':')) return undefined; // a bare IPv6 literal is not a valid Host
    name = colon >= 0 ? h.slice(0, colon) : h;
    rest = colon >= 0 ? h.slice(colon) : '';
  }
  if (rest !== '' && !/^:\d{0,5}$/.test(rest)) return undefined;
  if (name.endsWith('.')) name = name.slice(0, -1);
  return name === '' ? undefined : name;
}

/** localhost, *.localhost (RFC 6761: always loopback), or a loopback IP, with any port. */
export function isLoopbackHostHeader(header: string): boolean {
  const name = hostOfHeader(header);
  if (name === undefined) return false;
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  return isLoopbackIp(name);
}

/**
 * Why a request must be refused, or undefined to serve it. `boundHost` is the address the admin
 * listener is bound to; a request without a Host header (HTTP/1.0 tools) is not from a browser and
 * is served.
 */
export function rebindingRefusal(boundHost: string | undefined, hostHeader: string | undefined): string | undefined {
  if (boundHost === undefined || !isLoopbackIp(boundHost)) return undefined;
  if (hostHeader === undefined || isLoopbackHostHeader(hostHeader)) return undefined;
  const shown = hostHeader.length > 100 ? `${hostHeader.slice(0, 100)}…` : hostHeader;
  return (
    `Host "${shown.replace(/[^\x20-\x7e]/g, '?')}" refused: this admin listener is bound to loopback and answers only localhost, ` +
    `127.0.0.1 or [::1] (DNS-rebinding guard); bind admin.listen to a non-loopback address to serve other names`
  );
}
