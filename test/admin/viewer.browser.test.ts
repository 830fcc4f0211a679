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
import { createTraceStore } from '../../src/telemetry/store.js';

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
    const before = admin.store.stats().traces;
    await expect.poll(() => page.locator('#trace-rows tr').count()).toBe(before);
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

/**
 * The trace list across refreshes, on the page's own clock (playwright's fake timers): each
 * `tick()` is one 2 s refresh, so nothing here waits on wall time. The store holds 10 traces.
 */
describe.skipIf(!hasChromium)('trace list refreshes in place (chromium, fake clock)', () => {
  const MAX_TRACES = 10;
  let browser: Browser;
  let page: Page;
  let admin: TestAdmin;
  const pageErrors: string[] = [];

  beforeAll(async () => {
    admin = await startTestAdmin({ serviceName: 'frontend', maxTraces: MAX_TRACES });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.clock.install();
  });

  afterAll(async () => {
    await browser?.close();
    await admin?.close();
  });

  const row = (traceId: string) => page.locator(`#trace-rows tr[data-trace-id="${traceId}"]`);
  /** One refresh period on the page's clock. */
  const tick = () => page.clock.runFor(2000);
  /** What the list module remembers per trace (it has no other per-trace state). */
  const trackedTraces = () => page.evaluate("import(new URL('trace-list.js', location.href).href).then((m) => m.trackedTraceCount())");

  it('keeps keyboard focus, the selected row and a text selection while new traffic arrives', async () => {
    const now = Date.now();
    const traces = [0, 1, 2].map((i) => proxySpan({ start: now - 60_000 + i * 1000, correlationId: `req-focus-${i}` }));
    for (const s of traces) admin.store.add(s);
    await page.goto(admin.url);
    await expect.poll(() => page.locator('#trace-rows tr').count()).toBe(3);

    // Keyboard only: focus the top row, arrow down to the next one (newest first: traces[1]).
    await page.locator('#trace-rows tr').first().focus();
    await page.keyboard.press('ArrowDown');
    const target = row(traces[1].traceId);
    expect(await target.evaluate((tr) => document.activeElement === tr)).toBe(true);
    expect(await target.getAttribute('aria-selected')).toBe('true');
    // And the reader selects its correlation id, as if to copy it by hand.
    const id = target.locator('td.c-corr .id');
    await id.evaluate((el) => window.getSelection()!.selectAllChildren(el));
    const [rowHandle, idHandle] = [await target.elementHandle(), await id.elementHandle()];

    // New traces arrive (inserted above), and the focused trace itself grows a span in another service.
    const fresh = [proxySpan({ start: now - 1000, correlationId: 'req-new-1' }), proxySpan({ start: now - 500, correlationId: 'req-new-2' })];
    for (const s of fresh) admin.store.add(s);
    await tick();
    await row(fresh[1].traceId).waitFor();
    // Rows inserted by this refresh are marked new; the rows that were there are not.
    expect(await page.locator('#trace-rows tr.is-new').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-trace-id')))).toEqual([fresh[1].traceId, fresh[0].traceId]);
    admin.store.add(proxySpan({ parent: traces[1], service: 'payments', start: traces[1].startTime + 2, correlationId: 'req-focus-1' }));
    await tick();
    await expect.poll(() => target.locator('td.c-services').textContent()).toBe('orderspayments');
    expect(await target.locator('td.c-num').textContent()).toBe('2');
    expect(await page.locator('#trace-rows tr').count()).toBe(5);

    const after = await page.evaluate(
      ([tr, span]) => {
        const sel = window.getSelection()!;
        return {
          sameRowFocused: document.activeElement === tr && tr.isConnected,
          selectedRows: Array.from(document.querySelectorAll('#trace-rows tr[aria-selected="true"]'), (r) => r === tr),
          selectedText: sel.toString(),
          selectionInSameNode: sel.anchorNode !== null && span.contains(sel.anchorNode) && span.isConnected,
        };
      },
      [rowHandle!, idHandle!] as const,
    );
    expect(after).toEqual({ sameRowFocused: true, selectedRows: [true], selectedText: 'req-focus-1', selectionInSameNode: true });
    expect(await page.locator('#trace-rows tr.is-new').count()).toBe(0);
    await page.screenshot({ path: `${ARTIFACTS}/viewer-focus-kept.png` });

    // The keyboard still walks the list from there, and Enter opens the trace; Escape comes back to it.
    await page.keyboard.press('ArrowDown');
    expect(await row(traces[0].traceId).evaluate((tr) => document.activeElement === tr)).toBe(true);
    await page.keyboard.press('Enter');
    await page.waitForURL(`**/#/trace/${traces[0].traceId}`);
    await page.locator('.wf-row').first().waitFor();
    await page.keyboard.press('Escape');
    await page.waitForURL(/#\/traces$/);
    await expect.poll(() => row(traces[0].traceId).evaluate((tr) => document.activeElement === tr)).toBe(true);
    expect(await row(traces[0].traceId).getAttribute('aria-selected')).toBe('true');
  });

  it(`remembers no more traces than the store holds (${MAX_TRACES}), however many ids pass through the page`, async () => {
    await page.goto(admin.url + '#/traces');
    await page.locator('#trace-rows tr').first().waitFor();
    const counts: number[] = [];
    for (let round = 0; round < 12; round++) {
      const batch = Array.from({ length: MAX_TRACES }, (_, i) => proxySpan({ start: Date.now() - 1000 + i, correlationId: `req-${round}-${i}` }));
      for (const s of batch) admin.store.add(s);
      await tick();
      await row(batch[MAX_TRACES - 1].traceId).waitFor();
      await expect.poll(() => page.locator('#trace-rows tr').count()).toBe(MAX_TRACES);
      counts.push(Number(await trackedTraces()));
    }
    // 120 trace ids went through the page; the store kept the last 10, and so does the page.
    expect(admin.store.stats().evictedTraces).toBeGreaterThanOrEqual(115);
    expect(Math.max(...counts)).toBeLessThanOrEqual(MAX_TRACES);
    expect(counts.at(-1)).toBe(MAX_TRACES);
  });

  it("marks errors by the server's verdict (SpanView.error), never by the status code alone", async () => {
    const root = proxySpan({ service: 'frontend', route: '/basket', start: Date.now() - 2000, durationMs: 40 });
    // A CLIENT span an app sent over OTLP with a 503 and its status left unset: the store's rule
    // (status ERROR, or a SERVER span answering 5xx) does not count it, so neither does the page.
    const stock = proxySpan({ parent: root, service: 'frontend', kind: 'client', route: '/stock', status: 503, start: root.startTime + 2, durationMs: 20 });
    stock.status = { code: 'unset' };
    delete stock.attributes['error.type'];
    // An INTERNAL span with an ERROR status and no HTTP status at all: an error.
    const render = proxySpan({ parent: root, service: 'frontend', kind: 'internal', route: '/render', status: 0, errorType: 'TemplateError', start: root.startTime + 25, durationMs: 5 });
    for (const s of [root, stock, render]) admin.store.add(s);

    await page.goto(`${admin.url}#/trace/${root.traceId}`);
    await page.locator('.wf-row').first().waitFor();
    const flags = await page.locator('.wf-row').evaluateAll((rows) => rows.map((r) => [r.querySelector('.wf-name')!.textContent, r.classList.contains('is-error')]));
    expect(flags).toEqual([['GET /basket', false], ['GET /stock', false], ['GET /render', true]]);
    expect(await page.locator('.trace-head .meta').textContent()).toMatch(/\D1 error(?!s)/);

    const panel = page.locator('#span-panel');
    await page.locator('.wf-row').nth(1).click();
    await expect.poll(() => panel.locator('h3').textContent()).toBe('GET /stock');
    expect(await panel.locator('.badge').textContent()).toBe('503');
    expect(await panel.locator('.badge').getAttribute('class')).toBe('badge warn');
    expect(await panel.locator('dd.err, .error-box').count()).toBe(0);

    await page.locator('.wf-row').nth(2).click();
    await expect.poll(() => panel.locator('h3').textContent()).toBe('GET /render');
    expect(await panel.locator('.badge').getAttribute('class')).toBe('badge err');
    expect(await panel.locator('.badge').textContent()).toBe('ERROR');
    expect(await panel.locator('.error-box').textContent()).toBe('Error: TemplateError');
    await page.screenshot({ path: `${ARTIFACTS}/viewer-error-rule.png` });

    // Opened fresh from a deep link, Escape leads to the list with the keyboard on that trace's row.
    await page.reload();
    await page.locator('.wf-row').first().waitFor();
    await page.keyboard.press('Escape');
    await expect.poll(() => row(root.traceId).evaluate((tr) => document.activeElement === tr)).toBe(true);
    expect(await row(root.traceId).getAttribute('aria-selected')).toBe('true');
    expect(await row(root.traceId).getAttribute('tabindex')).toBe('0');
    expect(await page.locator('#trace-rows tr[tabindex="0"]').count()).toBe(1);
  });

  it("shows a gRPC call's method and gRPC status where an HTTP status would be", async () => {
    const grpcAttrs = (code: string) => ({ 'rpc.system.name': 'grpc', 'rpc.method': 'demo.Echo/Unary', 'rpc.status_code': code, 'error.type': code });
    const root = proxySpan({ service: 'frontend', route: '/demo.Echo/Unary', method: 'POST', start: Date.now() - 1500, durationMs: 30, attributes: grpcAttrs('UNAVAILABLE') });
    root.name = 'demo.Echo/Unary';
    root.status = { code: 'error', message: 'UNAVAILABLE: inventory is down' };
    admin.store.add(root);

    await page.goto(`${admin.url}#/trace/${root.traceId}`);
    await page.locator('.wf-row').first().waitFor();
    expect(await page.locator('.trace-head .badge').textContent()).toBe('UNAVAILABLE');
    const panel = page.locator('#span-panel');
    await page.locator('.wf-row').first().click();
    await expect.poll(() => panel.locator('h3').textContent()).toBe('demo.Echo/Unary');
    expect(await panel.locator('.badge').textContent()).toBe('UNAVAILABLE');
    expect(await panel.locator('.error-box').textContent()).toBe('Error: UNAVAILABLE: inventory is down');

    await page.goto(`${admin.url}#/traces`);
    await tick();
    await row(root.traceId).waitFor();
    expect(await row(root.traceId).locator('.badge').textContent()).toBe('UNAVAILABLE');
    await page.locator('.tabs a[data-view="summary"]').click();
    await tick();
    // The summary arrives by a real fetch after the tick: wait for its row, not for the clock.
    await expect
      .poll(async () => (await page.locator('#errors-rows tr').allTextContents()).find((t) => t.includes('demo.Echo/Unary')))
      .toContain('UNAVAILABLE');
  });

  it('raised no page errors', () => {
    expect(pageErrors).toEqual([]);
  });
});

describe.skipIf(!hasChromium)('trace list under admin.store.maxSpansPerSecond (chromium)', () => {
  it('says what share of new traces the store keeps, and nothing while it keeps them all', async () => {
    let now = 1_700_000_000_000;
    const store = createTraceStore({ maxTraces: 1000, maxBytes: 1 << 26, maxSpansPerSecond: 10, now: () => now });
    const admin = await startTestAdmin({ serviceName: 'frontend', store });
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      for (let i = 0; i < 5; i++) store.add(proxySpan({ start: Date.now() - 1000 + i }));
      await page.goto(admin.url + '#/traces');
      await expect.poll(() => page.locator('#trace-rows tr').count()).toBe(5);
      expect(await page.locator('#list-meta').textContent()).not.toContain('keeping');
      // 50 spans in one second, against a limit of 10: the next second keeps 10/50 = 20%.
      for (let i = 0; i < 45; i++) store.add(proxySpan({ start: Date.now() - 1000 + i }));
      now += 1000;
      await page.reload();
      await expect.poll(() => page.locator('#list-meta').textContent()).toContain('keeping 20% of new traces');
      expect(await page.locator('#list-meta span[title*="admin.store.maxSpansPerSecond"]').count()).toBe(1);
    } finally {
      await browser.close();
      await admin.close();
    }
  });
});
