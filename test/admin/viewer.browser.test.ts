/**
 * The viewer in a real browser (Debian's chromium via playwright-core): traces appear live, the
 * waterfall opens, filters work, the summary draws, deep links open a trace, span data stays text.
 * Screenshots of each view go to test-artifacts/viewer-*.png.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { ARTIFACTS, hasChromium, launchChromium } from '../helpers/admin-browser.js';
import { startTestAdmin, type TestAdmin } from '../helpers/admin-server.js';
import { proxySpan, topologyTrace } from '../helpers/admin-fixtures.js';

describe.skipIf(!hasChromium)('viewer (chromium)', () => {
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let admin: TestAdmin;
  const pageErrors: string[] = [];
  const external: string[] = [];

  beforeAll(async () => {
    admin = await startTestAdmin({ serviceName: 'frontend' });
    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: admin.url.replace(/\/$/, '') });
    page = await context.newPage();
    page.on('pageerror', (err) => pageErrors.push(err.message));
    page.on('console', (msg) => {
      if (msg.type() === 'error') pageErrors.push(msg.text());
    });
    page.on('request', (req) => {
      if (!req.url().startsWith(admin.url)) external.push(req.url());
    });
  });

  afterAll(async () => {
    await browser?.close();
    await admin?.close();
  });

  const base = Date.now() - 5 * 60_000;
  const ok = topologyTrace({ start: base, correlationId: 'req-7f3a9c' });
  const failed = topologyTrace({ start: base + 30_000, fail: true, correlationId: 'req-c0ffee' });
  const slow = topologyTrace({ start: base + 60_000, slow: 400, correlationId: 'req-5l0w' });

  it('shows traces as they arrive (live refresh)', async () => {
    await page.goto(admin.url);
    await expect.poll(() => page.locator('#traces-empty').textContent()).toMatch(/No traces yet/);
    await expect.poll(() => page.locator('#service-name').textContent()).toBe('frontend');

    for (const s of [...ok, ...failed, ...slow]) admin.store.add(s);
    for (let i = 0; i < 6; i++) for (const s of topologyTrace({ start: base + 90_000 + i * 10_000, slow: i * 30 })) admin.store.add(s);
    // No reload: the page polls every ~2 s.
    await page.locator(`tr[data-trace-id="${failed[0].traceId}"]`).waitFor({ timeout: 6000 });
    await expect.poll(() => page.locator('#trace-rows tr').count()).toBe(9);
    const row = page.locator(`tr[data-trace-id="${failed[0].traceId}"]`);
    expect(await row.getAttribute('class')).toContain('is-error');
    expect(await row.textContent()).toContain('POST /checkout');
    expect(await row.textContent()).toContain('req-c0ffee');
    expect(await row.locator('.badge').textContent()).toBe('502');
    await page.waitForTimeout(1700); // let the new-row highlight fade for the picture
    await page.screenshot({ path: `${ARTIFACTS}/viewer-traces.png` });
  });

  it('opens the waterfall of a trace with spans across services and a span panel', async () => {
    await page.locator(`tr[data-trace-id="${failed[0].traceId}"] td.c-root .name`).click();
    await page.waitForURL(`**/#/trace/${failed[0].traceId}`);
    await page.locator('.wf-row').first().waitFor();
    expect(await page.locator('.wf-row').count()).toBe(6);
    expect(await page.locator('[data-field="trace-id"]').textContent()).toBe(failed[0].traceId);
    expect(await page.locator('[data-field="correlation-id"]').textContent()).toBe('req-c0ffee');

    // Tree order and indentation follow parents.
    const labels = await page.locator('.wf-row .wf-label').allTextContents();
    expect(labels).toEqual([
      'frontendPOST /checkout',
      'frontendGET /orders/:id',
      'ordersGET /orders/:id',
      'ordersGET /inventory/:id',
      'ordersPOST /payments',
      'paymentsPOST /payments',
    ]);
    const guides = await page.locator('.wf-row').evaluateAll((rows) => rows.map((r) => r.querySelectorAll('.wf-guide').length));
    expect(guides).toEqual([0, 1, 2, 3, 3, 4]);
    // Errors are highlighted; the 200 inventory call is not.
    const errorRows = await page.locator('.wf-row').evaluateAll((rows) => rows.map((r) => r.classList.contains('is-error')));
    expect(errorRows).toEqual([true, true, true, false, true, true]);
    // Bars are scaled to the trace: the root spans the whole width.
    const rootBar = await page.locator('.wf-row').first().locator('.wf-bar').evaluate((b) => (b as HTMLElement).style.width);
    expect(rootBar).toBe('100%');

    const payments = page.locator('.wf-row').nth(5);
    await payments.click();
    expect(await payments.getAttribute('class')).toContain('selected');
    const panel = page.locator('#span-panel');
    await expect.poll(() => panel.locator('h3').textContent()).toBe('POST /payments');
    const text = await panel.textContent();
    expect(text).toContain('TRC_ERR_CHAOS_ABORT');
    expect(text).toContain('http.response.status_code');
    expect(text).toContain('tracecar.chaos.delay');
    expect(text).toContain('tracecar.chaos.abort');
    expect(await panel.locator('.event.chaos').count()).toBe(2);
    expect(await payments.locator('.wf-event.chaos').count()).toBe(2);

    // Copy buttons put the id on the clipboard.
    await page.locator('.trace-head button.copy').first().click();
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(failed[0].traceId);
    await page.screenshot({ path: `${ARTIFACTS}/viewer-trace.png` });
  });

  it('filters the list by errors, duration, correlation id, trace id and service', async () => {
    const shown = () => page.locator('#trace-rows tr').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-trace-id')));
    await page.goto(admin.url + '#/traces');
    await expect.poll(shown).toHaveLength(9);
    await page.locator('input[name="errors"]').check();
    await expect.poll(shown).toEqual([failed[0].traceId]);
    expect(page.url()).toContain('errors=1');
    await page.locator('#toast').waitFor({ state: 'hidden' });
    await page.screenshot({ path: `${ARTIFACTS}/viewer-errors.png` });

    await page.locator('input[name="errors"]').uncheck();
    await page.locator('input[name="minDuration"]').fill('400');
    await expect.poll(shown).toEqual([slow[0].traceId]);
    await page.locator('input[name="minDuration"]').fill('');
    await page.locator('input[name="correlationId"]').fill('req-7f3a9c');
    await expect.poll(shown).toEqual([ok[0].traceId]);
    await page.locator('#f-clear').click();
    await expect.poll(shown).toHaveLength(9);
    await page.locator('input[name="traceId"]').fill(slow[0].traceId.slice(0, 8));
    await expect.poll(shown).toEqual([slow[0].traceId]);
    await page.locator('#f-clear').click();
    await expect.poll(shown).toHaveLength(9);
    await page.locator('select[name="service"]').selectOption('payments');
    await expect.poll(() => page.url()).toContain('service=payments');
    await page.locator('#f-clear').click();
    await expect.poll(() => page.url()).not.toContain('service=');
  });

  it('shows the summary: slowest operations, error patterns, dependency graph', async () => {
    await page.locator('.tabs a[data-view="summary"]').click();
    await page.locator('#routes-rows tr').first().waitFor();
    const routes = await page.locator('#routes-rows tr').allTextContents();
    expect(routes).toHaveLength(3);
    expect(routes[0]).toContain('frontend');
    expect(routes[0]).toContain('POST /checkout');
    const errors = await page.locator('#errors-rows tr').allTextContents();
    expect(errors.some((e) => e.includes('payments') && e.includes('503') && e.includes('TRC_ERR_CHAOS_ABORT'))).toBe(true);

    const nodes = await page.locator('#dep-graph g.node').evaluateAll((g) => g.map((n) => n.getAttribute('data-service')));
    expect(nodes.sort()).toEqual(['frontend', 'inventory.internal', 'orders', 'payments']);
    const edge = page.locator('#dep-graph g.edge[data-from="orders"][data-to="payments"]');
    expect(await edge.locator('text').textContent()).toBe('9 calls · 1 err');
    expect(await page.locator('#dep-graph g.edge[data-from="frontend"][data-to="orders"] text').textContent()).toBe('9 calls · 1 err');
    expect(await page.locator('#dep-graph g.node.external').getAttribute('data-service')).toBe('inventory.internal');
    await page.screenshot({ path: `${ARTIFACTS}/viewer-summary.png`, fullPage: true });

    // A route row leads to its traces.
    await page.locator('#routes-rows tr', { hasText: 'payments' }).click();
    await page.waitForURL(/#\/traces\?service=payments/);
    await expect.poll(() => page.locator('#trace-rows tr').count()).toBe(9);
  });

  it('opens a trace straight from a deep link, waiting for it if it is not stored yet', async () => {
    await page.goto(admin.url + '#/trace/' + ok[0].traceId);
    await page.locator('.wf-row').first().waitFor();
    expect(await page.locator('.wf-row').count()).toBe(6);

    const later = topologyTrace({ correlationId: 'req-later' });
    await page.goto(admin.url + '#/trace/' + later[0].traceId);
    await expect.poll(() => page.locator('.notice').textContent()).toMatch(/not in the store yet/);
    for (const s of later) admin.store.add(s);
    await page.locator('.wf-row').first().waitFor({ timeout: 6000 });
    expect(await page.locator('[data-field="correlation-id"]').textContent()).toBe('req-later');
  });

  it('pauses and resumes live updates', async () => {
    await page.goto(admin.url + '#/traces');
    await page.locator('#trace-rows tr').first().waitFor();
    const before = await page.locator('#trace-rows tr').count();
    await page.locator('#live-toggle').click();
    expect(await page.locator('#live-toggle').textContent()).toBe('Resume');
    for (const s of topologyTrace()) admin.store.add(s);
    await page.waitForTimeout(2600);
    expect(await page.locator('#trace-rows tr').count()).toBe(before);
    await page.locator('#live-toggle').click();
    await expect.poll(() => page.locator('#trace-rows tr').count()).toBe(before + 1);
  });

  it('renders hostile span data as text', async () => {
    const evil = proxySpan({
      service: '<img src=x onerror="window.__xss=1">',
      route: '/<script>window.__xss=2</script>',
      correlationId: '"><svg onload=window.__xss=3>',
      attributes: { '<b>key</b>': '<iframe src="javascript:window.__xss=4">' },
      start: Date.now(),
    });
    evil.events.push({ name: '<img src=x onerror=window.__xss=5>', time: evil.startTime + 1 });
    admin.store.add(evil);
    await page.goto(admin.url + '#/traces');
    const row = page.locator(`tr[data-trace-id="${evil.traceId}"]`);
    await row.waitFor({ timeout: 6000 });
    expect(await row.textContent()).toContain('/<script>window.__xss=2</script>');
    await row.locator('td.c-root .name').click();
    await page.locator('.wf-row').first().waitFor();
    expect(await page.locator('#span-panel').textContent()).toContain('<iframe src="javascript:window.__xss=4">');
    await page.locator('.tabs a[data-view="summary"]').click();
    await page.locator('#dep-graph g.node').first().waitFor();
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(await page.locator('img[src="x"], iframe, script:not([src])').count()).toBe(0);
  });

  it('made no external requests and raised no page errors', () => {
    expect(external).toEqual([]);
    // 404s of deep links to traces not stored yet are expected answers, not page errors.
    expect(pageErrors.filter((e) => !/404 \(Not Found\)/.test(e))).toEqual([]);
  });
});
