// Browser test of fedflow's board: drives Debian's chromium through
// playwright-core against a running `fedflow server`.
//
//   node tests/board/board.test.mjs <server url> <job id>...
//
// Every job must have ended in success. Screenshots go to
// target/board-screenshots/ (or $BOARD_SCREENSHOTS). Exits non-zero on any
// failed check; prints BOARD_JOBS_PAGE_LOAD_MS=… (navigation → list rendered).
import { chromium } from 'playwright-core';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import assert from 'node:assert/strict';

const [url, ...jobIds] = process.argv.slice(2);
if (!url || !jobIds.length) {
  console.error('usage: node board.test.mjs <server url> <job id>...');
  process.exit(2);
}
const here = dirname(fileURLToPath(import.meta.url));
const shots = process.env.BOARD_SCREENSHOTS || join(here, '..', '..', 'target', 'board-screenshots');
rmSync(shots, { recursive: true, force: true });
mkdirSync(shots, { recursive: true });
const TIMEOUT = 30_000;

async function api(path, body) {
  const r = await fetch(`${url}/v1/${path}`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  const v = await r.json();
  assert.equal(v.retcode, 0, `${path} ${JSON.stringify(body)}: ${JSON.stringify(v)}`);
  return v.data;
}

let step = 'start';
const t0 = Date.now();
function log(msg) { console.log(`[board ${((Date.now() - t0) / 1000).toFixed(1)} s] ${msg}`); }

const userData = mkdtempSync(join(tmpdir(), 'fedflow-board-chromium-'));
const ctx = await chromium.launchPersistentContext(userData, {
  executablePath: '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
    '--disable-component-update', '--no-first-run', '--disable-sync'],
  viewport: { width: 1440, height: 1000 },
});
const errors = [];
let failed = false;
try {
  const page = ctx.pages()[0] || await ctx.newPage();
  page.setDefaultTimeout(TIMEOUT);
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`console error: ${m.text()}`); });

  // ---- jobs page: load time (navigation → list rendered), several runs ----
  step = 'jobs page load time';
  const count = (await api('job/list/job', { limit: 1, page: 1 })).count;
  const times = [];
  for (let i = 0; i < 5; i++) {
    // A distinct query string makes every run a full page load (not a hash change).
    await page.goto(`${url}/?run=${i}#/`, { waitUntil: 'commit' });
    await page.waitForSelector('#jobs-table[data-loaded="1"] tr.job-row');
    times.push(await page.evaluate(() => window.__boardJobsRendered));
  }
  const sorted = [...times].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)];
  log(`jobs page with ${count} jobs in the database: navigation → list rendered ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
  console.log(`BOARD_JOBS_PAGE_LOAD_MS=${median.toFixed(1)} (median of ${times.length}; jobs in database: ${count})`);
  const rowsOnPage = await page.locator('tr.job-row').count();
  assert.ok(rowsOnPage > 0 && rowsOnPage <= 2 * 20 * 2, `rows on the first page: ${rowsOnPage}`);
  await page.screenshot({ path: join(shots, 'jobs.png'), fullPage: true });

  // ---- every job is listed with status success (filter by id) ----
  for (const id of jobIds) {
    step = `jobs page lists ${id}`;
    await page.fill('#filter-q', id);
    const row = page.locator(`tr.job-row[data-job-id="${id}"]`).first();
    await row.waitFor();
    await page.waitForFunction((id) => {
      const rows = [...document.querySelectorAll('tr.job-row')];
      return rows.length > 0 && rows.every((r) => r.dataset.jobId === id);
    }, id);
    const statuses = await page.locator(`tr.job-row[data-job-id="${id}"]`).evaluateAll((rs) => rs.map((r) => r.dataset.status));
    assert.ok(statuses.length >= 1, `no row for ${id}`);
    assert.deepEqual([...new Set(statuses)], ['success'], `${id}: statuses ${statuses}`);
    log(`jobs page lists ${id}: ${statuses.length} row(s), all success`);
  }
  step = 'status filter';
  await page.fill('#filter-q', jobIds[0]);
  await page.selectOption('#filter-status', 'failed');
  await page.waitForFunction(() => document.querySelectorAll('tr.job-row').length === 0
    && document.getElementById('jobs-info').textContent.startsWith('0 '));
  await page.selectOption('#filter-status', 'success');
  await page.locator(`tr.job-row[data-job-id="${jobIds[0]}"]`).first().waitFor();
  await page.screenshot({ path: join(shots, 'jobs-filtered.png'), fullPage: true });

  // ---- job pages ----
  for (const id of jobIds) {
    const rows = await api('job/query', { job_id: id });
    const init = rows.find((r) => r.f_is_initiator) || rows[0];
    const role = init.f_role, party = String(init.f_party_id);
    const comps = init.f_dsl.components;
    const names = Object.keys(comps);
    step = `job ${id}: DAG`;
    await page.goto(`${url}/#/job/${encodeURIComponent(id)}?role=${role}&party_id=${party}`);
    await page.waitForFunction((n) => {
      const g = document.querySelectorAll('#dag-svg g.node');
      return g.length === n && [...g].every((x) => x.dataset.status === 'success');
    }, names.length);
    const dag = await page.locator('#dag-svg g.node').evaluateAll((gs) => gs.map((g) => [g.dataset.component, g.dataset.status]));
    assert.deepEqual(dag.map((x) => x[0]).sort(), [...names].sort());
    const edges = await page.locator('#dag-svg path.edge').count();
    log(`job ${id}: DAG shows ${dag.length} components, all success; ${edges} edges`);
    await page.locator('#job-status [data-status="success"]').waitFor();

    // The component with the headline metric: Evaluation (AUC) or the toy's secure_add.
    const evalName = names.find((n) => comps[n].module === 'Evaluation');
    const toyName = names.find((n) => comps[n].module === 'SecureAddExample');
    const target = evalName || toyName || names[names.length - 1];
    const metricName = evalName ? 'auc' : (toyName ? 'secure_sum' : null);
    const q = { job_id: id, role, party_id: party, component_name: target };

    step = `job ${id}: metrics of ${target}`;
    await page.click(`#dag-svg g.node[data-component="${target}"]`);
    await page.click('.tabs button[data-tab="metrics"]');
    await page.locator('#metrics').waitFor();
    if (metricName) {
      const all = await api('tracking/component/metric/all', q);
      let expected;
      for (const ns of Object.values(all)) if (ns[metricName]) expected = ns[metricName].data[0][1];
      assert.equal(typeof expected, 'number', `API has no ${metricName} for ${target}: ${JSON.stringify(all)}`);
      const card = page.locator(`.metric-card[data-metric="${metricName}"] .metric-number`).first();
      await card.waitFor();
      const shown = Number(await card.getAttribute('data-value'));
      const text = await card.textContent();
      assert.equal(shown, expected, `${metricName}: page ${shown}, API ${expected}`);
      assert.ok(Math.abs(Number(text) - expected) <= 1e-5 * Math.max(1, Math.abs(expected)), `${metricName} text '${text}' vs ${expected}`);
      log(`job ${id}: ${target} shows ${metricName} = ${text} (API ${expected})`);
    }
    // Every metric the API has: single points as numbers equal to the API's,
    // series as chart lines.
    {
      const all = await api('tracking/component/metric/all', q);
      let numbers = 0, lines = 0;
      for (const [ns, ms] of Object.entries(all)) {
        for (const [name, m] of Object.entries(ms)) {
          if (m.data.length === 1) {
            const v = Number(await page.locator(`.metric-card[data-ns="${ns}"][data-metric="${name}"] .metric-number`).first().getAttribute('data-value'));
            assert.equal(v, m.data[0][1], `${ns}.${name}`);
            numbers++;
          } else if (m.data.length > 1) {
            await page.locator(`.chart-card[data-ns="${ns}"] path.series[data-series="${name}"]`).first().waitFor();
            lines++;
          }
        }
        const types = Object.values(ms).map((m) => m.meta.metric_type);
        for (const [ty, chart] of [['ROC_EVALUATION', 'ROC'], ['KS_EVALUATION', 'KS'], ['LIFT_EVALUATION', 'Lift'], ['GAIN_EVALUATION', 'Gain']]) {
          if (types.includes(ty)) await page.locator(`.chart-card[data-ns="${ns}"][data-chart="${chart}"]`).waitFor();
        }
        if (ms.auc) log(`job ${id}: ${target} ${ns}.auc shown as ${await page.locator(`.metric-card[data-ns="${ns}"][data-metric="auc"] .metric-number`).textContent()} (API ${ms.auc.data[0][1]})`);
      }
      log(`job ${id}: ${target}: ${numbers} metric numbers equal the API's, ${lines} series drawn`);
    }
    if (evalName) {
      for (const chart of ['ROC', 'KS', 'Lift', 'Gain']) {
        await page.locator(`.chart-card[data-chart="${chart}"] svg path.series`).first().waitFor();
      }
      log(`job ${id}: ROC, KS, lift and gain charts render`);
    }
    await page.screenshot({ path: join(shots, `job-${id}-metrics.png`), fullPage: true });

    // Loss per iteration on the LR component, when there is one.
    const lrName = names.find((n) => /LR|LogisticRegression/i.test(comps[n].module || ''));
    if (lrName) {
      step = `job ${id}: ${lrName} loss and model`;
      const lq = { ...q, component_name: lrName };
      const all = await api('tracking/component/metric/all', lq);
      const hasLoss = Object.values(all).some((ns) => ns.loss && ns.loss.data.length > 1);
      await page.click(`#dag-svg g.node[data-component="${lrName}"]`);
      await page.click('.tabs button[data-tab="metrics"]');
      await page.locator('#metrics').waitFor();
      if (hasLoss) {
        await page.locator('.chart-card[data-chart="loss"] svg path.series').first().waitFor();
        log(`job ${id}: loss chart renders for ${lrName}`);
      }
      await page.screenshot({ path: join(shots, `job-${id}-loss.png`), fullPage: true });
      await page.click('.tabs button[data-tab="model"]');
      await page.locator('#model').waitFor();
      await page.screenshot({ path: join(shots, `job-${id}-model.png`), fullPage: true });
    }

    // Output data preview of the first component that has some.
    step = `job ${id}: output data`;
    for (const n of names) {
      let d;
      try { d = await api('tracking/component/output/data', { ...q, component_name: n, limit: 100 }); } catch { continue; }
      if (!d.data || !d.data.length) continue;
      await page.click(`#dag-svg g.node[data-component="${n}"]`);
      await page.click('.tabs button[data-tab="data"]');
      await page.locator('#output-data table.data-table').first().waitFor();
      const heads = await page.locator('#output-data table.data-table').first().locator('thead th').count();
      const body = await page.locator('#output-data table.data-table').first().locator('tbody tr').count();
      assert.equal(heads, d.meta[0].header.length);
      assert.equal(body, d.data[0].length);
      log(`job ${id}: ${n} output data shows ${body} rows × ${heads} columns`);
      await page.screenshot({ path: join(shots, `job-${id}-data.png`), fullPage: true });
      break;
    }

    // Logs (of the headline component).
    step = `job ${id}: logs of ${target}`;
    await page.click(`#dag-svg g.node[data-component="${target}"]`);
    await page.click('.tabs button[data-tab="log"]');
    await page.waitForFunction(() => (document.getElementById('log-pre')?.textContent || '').length > 0);
    const logText = await page.locator('#log-pre').textContent();
    log(`job ${id}: log of ${target} shows ${logText.length} characters`);
    await page.screenshot({ path: join(shots, `job-${id}-log.png`), fullPage: true });

    step = `job ${id}: parameters`;
    await page.click('.tabs button[data-tab="parameters"]');
    await page.locator('#parameters details').first().waitFor();
  }
  assert.deepEqual(errors, [], 'errors in the page');
  log(`all checks passed; screenshots in ${shots}`);
} catch (e) {
  failed = true;
  console.error(`FAILED at step '${step}': ${e && e.stack ? e.stack : e}`);
  if (errors.length) console.error(errors.join('\n'));
  try {
    const p = ctx.pages()[0];
    if (p) await p.screenshot({ path: join(shots, 'failure.png'), fullPage: true });
  } catch { /* ignore */ }
} finally {
  await ctx.close();
  rmSync(userData, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
