/**
 * What shutdown waits for: requests in flight on every listener, and the connections that left
 * node:http at an upgrade or CONNECT (WebSockets, tunnels).
 */
import { LiveConnections, waitIdle } from './proxy/splice.js';

export class DrainTracker {
  /** Upgraded and tunnelled connections open now. */
  readonly live = new LiveConnections();
  private active = 0;
  private idle: Array<() => void> = [];

  /** Requests in flight (a WebSocket counts until its 101, a tunnel for its whole life). */
  get inflight(): number {
    return this.active;
  }

  started(): void {
    this.active++;
  }

  finished(): void {
    this.active--;
    if (this.active === 0) for (const resolve of this.idle.splice(0)) resolve();
  }

  /**
   * Waits until requests in flight have finished and open connections have ended by themselves,
   * each at most `graceMs`; then cuts the connections still open (their spans end before this
   * resolves, so they still reach the exporter).
   */
  async drain(graceMs: number): Promise<void> {
    const connections = this.live.drain(graceMs);
    if (this.active > 0) await waitIdle((done) => this.idle.push(done), graceMs);
    await connections;
  }
}
