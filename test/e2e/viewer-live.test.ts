/**
 * The viewer in chromium, fed by REAL proxied traffic: tracecar "frontend" in front of an
 * uninstrumented app whose calls to an instrumented "payments" app go through a tracecar egress
 * route; payments exports its spans to the viewer's OTLP/HTTP receiver. A request sent through the
 * proxy shows up without a reload, its waterfall spans both services, an error filters out, the
 * summary draws, and the link on the terminal line opens the trace.
 * Screenshots: test-artifacts/live-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'undici';
import type { Browser, Page } from 'playwright-core';
import { ARTIFACTS, hasChromium, launchChromium } from '../helpers/admin-browser.js';
import { startTracecar, startUpstream, type RunningTracecar, type Upstream } from '../helpers/harness.js';
import { callOut } from '../helpers/apps.js';
import { startInstrumentedApp, traceIdOf, type InstrumentedApp } from '../helpers/e2e-admin.js';

describe.skipIf(!hasChromium)('viewer with real proxied traffic (chromium)', () => {
  let browser: Browser;
  let page: Page;
  let payments: InstrumentedApp;
  let app: Upstream;
  let tc: RunningTracecar;
  let admin: string;
  let routeToPayments = '';
  const pageErrors: string[] = [];
  const external: string[] = [];

  const send = async (method: string, path: string, headers: Record<string, string> = {}) => {
    const res = await request(`${tc.url}${path}`, { method: method as 'GET', headers });
    await res.body.text();
    return { status: res.statusCode, traceId: traceIdOf(res.headers) };
  };
  const rows = () => page.locator('#trace-rows tr').evaluateAll((trs) => trs.map((r) => r.getAttribute('data-trace-id')));

  beforeAll(async () => {
    payments = await startInstrumentedApp({ service: 'payments', otlpUrl: () => `${admin}v1/traces`, route: (p) => p.replace(/\/\d+$/, '/:id') });
    app = await startUpstream(async (req, res) => {
      const url = req.url ?? '/';
      if (url.startsWith('/fail')) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        return res.end('bad gateway');
      }
      if (url.startsWith('/checkout/')) {
        const r = await callOut(`${routeToPayments}/charge/${url.split('/').pop()}`, req.headers, { forward: ['x-request-id'] });
        return res.end(`charged ${r.status}`);
      }
      setTimeout(() => res.end('ok'), 20);
    });
    tc = await startTracecar({
      service: { name: 'frontend' },
      ingress: { target: app.url },
      egress: { routes: [{ name: 'payments', listen: '127.0.0.1:0', target: payments.url }] },
      // The human-readable access line, which carries the viewer link of each request's trace.
      export: { console: 'pretty' },
    });
    admin = tc.addresses.viewerUrl!;
    routeToPayments = `http://127.0.0.1:${tc.addresses.routes.payments.port}`;

    browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
    page.on('request', (req) => {
      if (!req.url().startsWith(admin)) external.push(req.url());
    });
  }, 30_000);

  afterAll(async () => {
    await browser?.close();
    await tc?.close();
    await Promise.all([app?.close(), payments?.close()]);
  });

  it('a proxied request appears in the open list without a reload', async () => {
    expect(admin).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    await page.goto(admin);
    await expect.poll(() => page.locator('#traces-empty').textContent()).toMatch(/No traces yet/);
    await expect.poll(() => page.locator('#service-name').textContent()).toBe('frontend');

    const first = await send('GET', '/orders/42');
    expect(first.status).toBe(200);
    const row = page.locator(`tr[data-trace-id="${first.traceId}"]`);
    await row.waitFor({ timeout: 6000 });
    expect(await row.locator('td.c-root .name').textContent()).toBe('GET /orders/:id');
    expect(await row.locator('.badge').textContent()).toBe('200');
    expect(await row.locator('td.c-services').textContent()).toBe('frontend');

    const checkout = await send('POST', '/checkout/7', { 'x-request-id': 'req-live-checkout' });
    expect(checkout.status).toBe(200);
    const crow = page.locator(`tr[data-trace-id="${checkout.traceId}"]`);
    await crow.waitFor({ timeout: 6000 });
    // Both services' spans arrive (payments' over OTLP/HTTP); the row updates on a later refresh.
    await expect.poll(() => crow.locator('td.c-services').textContent(), { timeout: 6000 }).toBe('frontendpayments');
    await expect.poll(() => crow.locator('td.c-num').textContent()).toBe('4');
    expect(await crow.locator('td.c-corr').textContent()).toBe('req-live-checkout');
    expect(await rows()).toEqual([checkout.traceId, first.traceId]);
    // A generated correlation id (a UUID) is cut short, with its copy button on the same line.
    const corr = row.locator('td.c-corr');
    expect(await corr.locator('.id').textContent()).toMatch(/^[0-9a-f-]{22}…$/);
    const [idBox, btnBox] = [await corr.locator('.id').boundingBox(), await corr.locator('button.copy').boundingBox()];
    expect(Math.abs(idBox!.y + idBox!.height / 2 - (btnBox!.y + btnBox!.height / 2))).toBeLessThan(4);
    await page.waitForTimeout(1700); // let the new-row highlight fade for the picture
    await page.screenshot({ path: `${ARTIFACTS}/live-traces.png` });
  });

  it('opens the waterfall of the cross-service trace', async () => {
    const id = (await rows())[0]!;
    await page.locator(`tr[data-trace-id="${id}"] td.c-root .name`).click();
    await page.waitForURL(`**/#/trace/${id}`);
    await page.locator('.wf-row').first().waitFor();
    const labels = await page.locator('.wf-row .wf-label').allTextContents();
    expect(labels).toEqual(['frontendPOST /checkout/:id', 'frontendGET /charge/:id', 'paymentsGET /charge/:id', 'paymentsSELECT ledger']);
    const depth = await page.locator('.wf-row').evaluateAll((rs) => rs.map((r) => r.querySelectorAll('.wf-guide').length));
    expect(depth).toEqual([0, 1, 2, 3]);
    expect(await page.locator('[data-field="trace-id"]').textContent()).toBe(id);
    expect(await page.locator('[data-field="correlation-id"]').textContent()).toBe('req-live-checkout');
    expect(await page.locator('.wf-row.is-error').count()).toBe(0);
    const ticks = await page.locator('.wf-ruler .tick').allTextContents();
    expect(ticks[0]).toBe('0 ms');
    for (const t of ticks) expect(t).toMatch(/^\d+(\.[1-9]\d*)? (ms|s)$|^0\.\d+ ms$/);

    // The proxy's CLIENT span: how it was stitched, and where it went.
    await page.locator('.wf-row').nth(1).click();
    const panel = page.locator('#span-panel');
    await expect.poll(() => panel.locator('h3').textContent()).toBe('GET /charge/:id');
    const text = await panel.textContent();
    expect(text).toContain('tracecar.parent.source');
    expect(text).toContain('correlation-id');
    expect(text).toContain('peer.service');
    await page.screenshot({ path: `${ARTIFACTS}/live-trace.png` });
    // The app forwarded x-request-id but not traceparent: the propagation doctor says so on the span.
    expect(text).toContain('tracecar.propagation.lost');
    await panel.evaluate((p) => (p.scrollTop = p.scrollHeight));
    await panel.screenshot({ path: `${ARTIFACTS}/live-span-events.png` });
  });

  it('a failing request is highlighted and the errors filter keeps only it', async () => {
    const failed = await send('GET', '/fail/1');
    expect(failed.status).toBe(502);
    await page.locator('.tabs a[data-view="traces"]').click();
    const row = page.locator(`tr[data-trace-id="${failed.traceId}"]`);
    await row.waitFor({ timeout: 6000 });
    expect(await row.getAttribute('class')).toContain('is-error');
    expect(await row.locator('.badge').textContent()).toBe('502');
    await expect.poll(rows).toHaveLength(3);

    await page.locator('input[name="errors"]').check();
    await expect.poll(rows).toEqual([failed.traceId]);
    expect(page.url()).toContain('errors=1');
    // Still live: a new error joins the filtered list, a new success does not.
    const second = await send('GET', '/fail/2');
    await send('GET', '/orders/43');
    await expect.poll(rows, { timeout: 6000 }).toEqual([second.traceId, failed.traceId]);
    await page.locator('#toast').waitFor({ state: 'hidden' });
    await page.waitForTimeout(1700); // let the new-row highlight fade for the picture
    await page.screenshot({ path: `${ARTIFACTS}/live-errors.png` });
    await page.locator('#f-clear').click();
    await expect.poll(rows).toHaveLength(5);
  });

  it('the summary shows latency per route, the error pattern and frontend → payments', async () => {
    await page.locator('.tabs a[data-view="summary"]').click();
    await page.locator('#routes-rows tr').first().waitFor();
    const routes = await page.locator('#routes-rows tr').allTextContents();
    expect(routes.some((r) => r.includes('frontend') && r.includes('GET /orders/:id'))).toBe(true);
    expect(routes.some((r) => r.includes('payments') && r.includes('GET /charge/:id'))).toBe(true);
    const errors = await page.locator('#errors-rows tr').allTextContents();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('GET /fail/:id');
    expect(errors[0]).toContain('502');
    // error.type is "502" too: the cause column does not repeat the status.
    expect(await page.locator('#errors-rows tr td.mono').first().textContent()).toBe('–');

    const nodes = await page.locator('#dep-graph g.node').evaluateAll((g) => g.map((n) => n.getAttribute('data-service')));
    expect(nodes.sort()).toEqual(['frontend', 'ledger-db', 'payments']);
    expect(await page.locator('#dep-graph g.edge[data-from="frontend"][data-to="payments"] text').textContent()).toBe('1 call');
    expect(await page.locator('#dep-graph g.node.external').getAttribute('data-service')).toBe('ledger-db');
    await page.screenshot({ path: `${ARTIFACTS}/live-summary.png`, fullPage: true });
  });

  it('the link on the terminal line and the traceresponse header open the same trace', async () => {
    const sent = await send('GET', '/orders/99', { 'x-request-id': 'req-deep-99' });
    const line = tc.log.lines.map((l) => String(l.line ?? '')).find((l) => l.includes('GET /orders/99'));
    expect(line).toBeDefined();
    const link = /(http:\/\/\S+#\/trace\/[0-9a-f]{32})/.exec(line!)?.[1];
    expect(link).toBe(`${admin}#/trace/${sent.traceId}`);

    const fresh = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    fresh.on('pageerror', (err) => pageErrors.push(err.message));
    try {
      await fresh.goto(link!);
      await fresh.locator('.wf-row').first().waitFor({ timeout: 6000 });
      expect(await fresh.locator('[data-field="trace-id"]').textContent()).toBe(sent.traceId);
      expect(await fresh.locator('[data-field="correlation-id"]').textContent()).toBe('req-deep-99');
      expect(await fresh.locator('.wf-row .wf-label').allTextContents()).toEqual(['frontendGET /orders/:id']);
      expect(await fresh.locator('.trace-head .meta').textContent()).toMatch(/\D1 span(?!s)/);
      expect(await fresh.title()).toBe(`trace ${sent.traceId.slice(0, 12)}… · tracecar`);
      await fresh.screenshot({ path: `${ARTIFACTS}/live-deeplink.png` });
    } finally {
      await fresh.close();
    }
  });

  it('made no external requests and raised no page errors', () => {
    expect(external).toEqual([]);
    expect(pageErrors).toEqual([]);
  });
});
