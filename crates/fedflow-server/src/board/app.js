// fedflow board: FATE Board's pages in plain JavaScript (no build step, no
// dependencies). Hash routes: #/ (jobs) and #/job/<id>[?role=&party_id=].
'use strict';

const POLL_MS = 2000;
const PAGE_SIZE = 20;
const TERMINAL = ['success', 'failed', 'canceled', 'timeout'];
const COLORS = ['#1c7ed6', '#e03131', '#2f9e44', '#f08c00', '#7048e8', '#0c8599', '#c2255c', '#5c940d'];
const SVGNS = 'http://www.w3.org/2000/svg';

// ---------- helpers ----------

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    e.append(c instanceof Node ? c : String(c));
  }
  return e;
}

function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null) e.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

// On a server with app_key/secret_key the board logs in once with the key
// pair (POST /board/api/login): the server sets a same-origin session cookie,
// and every call carries it plus the X-Fedflow-Board header instead of a
// signature. The browser does not keep the secret.
const BOARD_HEADERS = { 'X-Fedflow-Board': '1' };

function authFailed(v) {
  if (v && v.retcode === 109) showLogin(v.retmsg);
}

async function api(path, body) {
  const r = await fetch('/v1/' + path, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'Content-Type': 'application/json', ...BOARD_HEADERS },
    body: JSON.stringify(body || {}),
  });
  const v = await r.json();
  if (v.retcode !== 0) {
    authFailed(v);
    const e = new Error(v.retmsg || ('retcode ' + v.retcode));
    e.retcode = v.retcode;
    throw e;
  }
  return v.data;
}

async function getJson(url) {
  const r = await fetch(url, { credentials: 'same-origin', headers: BOARD_HEADERS });
  const v = await r.json();
  if (v.retcode !== 0) {
    authFailed(v);
    throw new Error(v.retmsg || ('retcode ' + v.retcode));
  }
  return v.data;
}

let loginShown = false;

function showLogin(msg) {
  if (loginShown) return;
  loginShown = true;
  timers.forEach(clearTimeout);
  timers = [];
  routeGen++;
  const key = el('input', { id: 'login-key', name: 'app_key', autocomplete: 'username' });
  const secret = el('input', { id: 'login-secret', name: 'secret_key', type: 'password', autocomplete: 'current-password' });
  const err = el('p', { id: 'login-error', class: 'muted' });
  const form = el('form', { id: 'login', onsubmit: async (ev) => {
    ev.preventDefault();
    const r = await fetch('/board/api/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ app_key: key.value, secret_key: secret.value }),
    });
    const v = await r.json();
    if (v.retcode === 0) {
      loginShown = false;
      route();
    } else {
      err.textContent = v.retmsg || 'login failed';
    }
  } },
  el('h2', { text: 'This server requires signed requests' }),
  el('p', { class: 'muted', text: msg || '' }),
  el('label', {}, 'app_key ', key), ' ',
  el('label', {}, 'secret_key ', secret), ' ',
  el('button', { type: 'submit', text: 'Log in' }),
  err);
  document.getElementById('app').replaceChildren(form);
}

function fmtTime(ms) {
  if (!ms) return '—';
  const d = new Date(ms);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

function fmtDuration(ms) {
  if (ms === null || ms === undefined) return '—';
  const s = Math.floor(ms / 1000);
  if (s < 60) return (ms / 1000).toFixed(1) + ' s';
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return (h ? h + ' h ' : '') + m + ' min ' + r + ' s';
}

function fmtNum(v) {
  if (typeof v !== 'number') return String(v);
  if (Number.isInteger(v)) return String(v);
  const a = Math.abs(v);
  if (a !== 0 && (a < 1e-4 || a >= 1e9)) return v.toExponential(4);
  return String(Number(v.toPrecision(6)));
}

function badge(status) {
  return el('span', { class: 'badge s-' + (status || 'waiting'), dataset: { status: status || '' } }, status || 'n/a');
}

function progressBar(p) {
  return el('span', {}, el('span', { class: 'progress' }, el('i', { style: `width:${Math.max(0, Math.min(100, p || 0))}%` })), `${p || 0}%`);
}

function setKids(node, ...kids) {
  node.replaceChildren(...kids.flat().filter((k) => k !== null && k !== undefined && k !== false));
}

function errorBox(e) {
  return el('div', { class: 'err' }, String(e && e.message ? e.message : e));
}

// A collapsible JSON tree.
function jsonTree(v, key, depth) {
  depth = depth || 0;
  const label = key === undefined ? '' : key;
  if (v !== null && typeof v === 'object') {
    const entries = Array.isArray(v) ? v.map((x, i) => [i, x]) : Object.entries(v);
    const shown = entries.slice(0, 500);
    const d = el('details', depth < 2 ? { open: true } : {},
      el('summary', {}, el('span', { class: 'k' }, label), (label !== '' ? ': ' : ''),
        Array.isArray(v) ? `[${entries.length}]` : `{${entries.length}}`));
    for (const [k, x] of shown) d.append(jsonTree(x, k, depth + 1));
    if (entries.length > shown.length) d.append(el('div', { class: 'muted' }, `… ${entries.length - shown.length} more`));
    return d;
  }
  return el('div', {}, el('span', { class: 'k' }, label), label !== '' ? ': ' : '',
    el('span', { class: 'v' }, typeof v === 'string' ? JSON.stringify(v) : String(v)));
}

function treeBox(v) {
  return el('div', { class: 'tree scroll' }, jsonTree(v));
}

// ---------- routing ----------

let timers = [];
let routeGen = 0;

function later(fn, ms) {
  const gen = routeGen;
  const t = setTimeout(() => { if (gen === routeGen) fn(); }, ms);
  timers.push(t);
}

function route() {
  routeGen++;
  timers.forEach(clearTimeout);
  timers = [];
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, qs] = hash.split('?');
  const params = new URLSearchParams(qs || '');
  const app = document.getElementById('app');
  app.replaceChildren();
  const m = path.match(/^\/job\/([^/]+)$/);
  if (m) jobPage(app, decodeURIComponent(m[1]), params);
  else jobsPage(app, params);
}

window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', () => {
  route();
  api('version/get').then((v) => {
    document.getElementById('server-info').textContent = `fedflow ${v.fedflow} · FATE Flow API ${v.API}`;
  }).catch(() => {});
});

// ---------- jobs page ----------

const jobsState = { page: 1, status: '', q: '' };

function jobsPage(app) {
  const st = jobsState;
  const statusSel = el('select', { id: 'filter-status' },
    ['', 'waiting', 'running', 'success', 'failed', 'canceled', 'timeout'].map((s) =>
      el('option', { value: s, selected: s === st.status }, s || 'all statuses')));
  const q = el('input', { id: 'filter-q', placeholder: 'job id contains…', value: st.q, size: 28 });
  const tbody = el('tbody', { id: 'jobs-body' });
  const table = el('table', { id: 'jobs-table' },
    el('thead', {}, el('tr', {}, ['Job ID', 'Role', 'Party', 'Status', 'Progress', 'Type', 'Start time', 'Duration', 'Initiator'].map((h) => el('th', {}, h)))),
    tbody);
  const info = el('span', { class: 'muted', id: 'jobs-info' });
  const prev = el('button', { id: 'page-prev' }, '‹ Prev');
  const next = el('button', { id: 'page-next' }, 'Next ›');
  const pageInfo = el('span', { id: 'page-info' });
  const err = el('div');
  app.append(el('div', { class: 'card' },
    el('h2', {}, 'Jobs'),
    el('div', { class: 'filters' }, statusSel, q, info, el('span', { class: 'muted', style: 'margin-left:auto' }, 'refreshes every 2 s')),
    err,
    el('div', { class: 'scroll', style: 'max-height:none' }, table),
    el('div', { class: 'pager' }, prev, pageInfo, next)));

  let inflight = false;
  let gen = 0;
  async function load() {
    if (inflight) return;
    inflight = true;
    const my = ++gen;
    try {
      let data;
      if (st.status || st.q) {
        const p = new URLSearchParams({ limit: PAGE_SIZE, page: st.page, status: st.status, q: st.q });
        data = await getJson('/board/api/jobs?' + p);
      } else {
        data = await api('job/list/job', { limit: PAGE_SIZE, page: st.page });
      }
      if (my !== gen) return;
      err.replaceChildren();
      renderRows(data);
    } catch (e) {
      err.replaceChildren(errorBox(e));
    } finally {
      inflight = false;
    }
  }

  function renderRows(data) {
    const jobs = data.jobs || [];
    const pages = Math.max(1, Math.ceil((data.count || 0) / PAGE_SIZE));
    tbody.replaceChildren(...jobs.map((j) => {
      const href = `#/job/${encodeURIComponent(j.f_job_id)}?role=${j.f_role}&party_id=${j.f_party_id}`;
      return el('tr', { class: 'job-row', dataset: { jobId: j.f_job_id, status: j.f_status, role: j.f_role, partyId: j.f_party_id } },
        el('td', {}, el('a', { href }, j.f_job_id)),
        el('td', {}, j.f_role),
        el('td', {}, j.f_party_id),
        el('td', {}, badge(j.f_status)),
        el('td', {}, j.f_status === 'running' || j.f_status === 'waiting' ? progressBar(j.f_progress) : (j.f_progress != null ? j.f_progress + '%' : '')),
        el('td', {}, j.f_job_type || ''),
        el('td', {}, fmtTime(j.f_start_time || j.f_create_time)),
        el('td', {}, fmtDuration(j.f_elapsed)),
        el('td', {}, j.f_is_initiator ? 'yes' : ''));
    }));
    if (!jobs.length) tbody.append(el('tr', {}, el('td', { colspan: 9, class: 'muted' }, 'No jobs.')));
    info.textContent = `${data.count || 0} job(s)`;
    pageInfo.textContent = `page ${st.page} of ${pages}`;
    prev.disabled = st.page <= 1;
    next.disabled = st.page >= pages;
    table.dataset.loaded = '1';
    if (!window.__boardJobsRendered) window.__boardJobsRendered = performance.now();
  }

  function tick() {
    load().finally(() => later(tick, POLL_MS));
  }
  statusSel.addEventListener('change', () => { st.status = statusSel.value; st.page = 1; gen++; inflight = false; load(); });
  let qTimer;
  q.addEventListener('input', () => {
    clearTimeout(qTimer);
    qTimer = setTimeout(() => { st.q = q.value.trim(); st.page = 1; gen++; inflight = false; load(); }, 250);
  });
  prev.addEventListener('click', () => { if (st.page > 1) { st.page--; gen++; inflight = false; load(); } });
  next.addEventListener('click', () => { st.page++; gen++; inflight = false; load(); });
  tick();
}

// ---------- job page ----------

function dslEdges(dsl) {
  const comps = (dsl && dsl.components) || {};
  const edges = [];
  const names = Object.keys(comps);
  for (const name of names) {
    const input = comps[name].input || {};
    for (const [kind, val] of Object.entries(input)) {
      const refs = [];
      const collect = (x) => {
        if (typeof x === 'string') refs.push(x);
        else if (Array.isArray(x)) x.forEach(collect);
        else if (x && typeof x === 'object') Object.values(x).forEach(collect);
      };
      collect(val);
      for (const r of refs) {
        const src = r.split('.')[0];
        if (comps[src] && src !== name) {
          const type = kind === 'data' ? 'data' : 'model';
          if (!edges.some((e) => e.from === src && e.to === name && e.type === type)) edges.push({ from: src, to: name, type });
        }
      }
    }
  }
  return { names, edges };
}

function renderDag(dsl, taskOf, selected, onSelect) {
  const { names, edges } = dslEdges(dsl);
  const depth = {};
  const d = (n, seen) => {
    if (depth[n] !== undefined) return depth[n];
    if (seen.has(n)) return 0;
    seen.add(n);
    const ins = edges.filter((e) => e.to === n).map((e) => d(e.from, seen) + 1);
    depth[n] = ins.length ? Math.max(...ins) : 0;
    return depth[n];
  };
  names.forEach((n) => d(n, new Set()));
  const layers = [];
  for (const n of names) (layers[depth[n]] = layers[depth[n]] || []).push(n);
  const W = 180, H = 36, GX = 26, GY = 52, PAD = 16;
  const maxCols = Math.max(1, ...layers.map((l) => (l ? l.length : 0)));
  const width = PAD * 2 + maxCols * W + (maxCols - 1) * GX;
  const height = PAD * 2 + layers.length * H + Math.max(0, layers.length - 1) * GY;
  const pos = {};
  layers.forEach((l, li) => {
    if (!l) return;
    const rowW = l.length * W + (l.length - 1) * GX;
    l.forEach((n, i) => { pos[n] = { x: (width - rowW) / 2 + i * (W + GX), y: PAD + li * (H + GY) }; });
  });
  const root = svg('svg', { width, height, viewBox: `0 0 ${width} ${height}`, id: 'dag-svg' },
    svg('defs', {},
      svg('marker', { id: 'arrow-data', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#667' })),
      svg('marker', { id: 'arrow-model', viewBox: '0 0 10 10', refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M0,0 L10,5 L0,10 z', fill: '#a61e4d' }))));
  for (const e of edges) {
    const a = pos[e.from], b = pos[e.to];
    if (!a || !b) continue;
    const off = e.type === 'model' ? 14 : 0;
    const x1 = a.x + W / 2 + off, y1 = a.y + H, x2 = b.x + W / 2 + off, y2 = b.y;
    const my = (y1 + y2) / 2;
    root.append(svg('path', { class: 'edge ' + e.type, d: `M${x1},${y1} C${x1},${my} ${x2},${my} ${x2},${y2}`, 'marker-end': `url(#arrow-${e.type})`, 'data-from': e.from, 'data-to': e.to, 'data-type': e.type }));
  }
  const color = { success: '#2f9e44', failed: '#e03131', running: '#1c7ed6', canceled: '#f08c00', timeout: '#c2255c' };
  for (const n of names) {
    const p = pos[n];
    const t = taskOf(n);
    const status = t ? t.f_status : 'waiting';
    const module = (dsl.components[n] || {}).module || '';
    const g = svg('g', { class: 'node' + (n === selected ? ' selected' : ''), 'data-component': n, 'data-status': status, transform: `translate(${p.x},${p.y})` },
      svg('title', {}, `${n} (${module}): ${status}`),
      svg('rect', { width: W, height: H, rx: 6, fill: color[status] || '#adb5bd' }),
      svg('text', { x: W / 2, y: 15, 'text-anchor': 'middle', 'font-weight': 600 }, n.length > 26 ? n.slice(0, 25) + '…' : n),
      svg('text', { x: W / 2, y: 29, 'text-anchor': 'middle', opacity: 0.85 }, `${module} · ${status}`));
    g.addEventListener('click', () => onSelect(n));
    root.append(g);
  }
  return root;
}

function jobPage(app, jobId, params) {
  const st = { rows: [], tasks: [], party: null, selected: null, tab: 'metrics', dsl: null, conf: null, taskStatus: {} };
  const header = el('div', { class: 'card', id: 'job-header' }, el('p', { class: 'muted' }, 'Loading job ' + jobId + '…'));
  const dagBox = el('div', { class: 'dag', id: 'dag' });
  const legend = el('div', { class: 'legend muted' },
    el('span', {}, '── data'), el('span', { style: 'color:#a61e4d' }, '- - model'),
    ['success', 'running', 'failed', 'waiting'].map((s) => el('span', {}, badge(s))));
  const panel = el('div', { class: 'card', id: 'component-panel' }, el('p', { class: 'muted' }, 'Select a component in the DAG.'));
  const confBox = el('div', { class: 'card', id: 'job-conf' });
  app.append(el('p', {}, el('a', { href: '#/' }, '‹ all jobs')), header,
    el('div', { class: 'grid' },
      el('div', {}, el('div', { class: 'card' }, el('h3', {}, 'DAG'), dagBox, legend), confBox),
      panel));

  const taskOf = (n) => {
    const p = st.party;
    const ts = st.tasks.filter((t) => t.f_component_name === n && (!p || (t.f_role === p.role && String(t.f_party_id) === String(p.party_id))));
    ts.sort((a, b) => (b.f_task_version || 0) - (a.f_task_version || 0));
    return ts[0];
  };

  function select(n) {
    st.selected = n;
    drawDag();
    drawPanel();
  }

  function drawDag() {
    if (!st.dsl) return;
    dagBox.replaceChildren(renderDag(st.dsl, taskOf, st.selected, select));
  }

  function drawHeader() {
    const row = st.rows.find((r) => st.party && r.f_role === st.party.role && String(r.f_party_id) === String(st.party.party_id)) || st.rows[0];
    if (!row) return;
    const partySel = el('select', { id: 'party-select' }, st.rows.map((r) =>
      el('option', { value: `${r.f_role}:${r.f_party_id}`, selected: r === row }, `${r.f_role} ${r.f_party_id}${r.f_is_initiator ? ' (initiator)' : ''}`)));
    partySel.addEventListener('change', () => {
      const [role, pid] = partySel.value.split(':');
      location.hash = `#/job/${encodeURIComponent(jobId)}?role=${role}&party_id=${pid}`;
    });
    setKids(header, 
      el('h2', {}, 'Job ', el('span', { id: 'job-id' }, jobId), ' ', el('span', { id: 'job-status' }, badge(row.f_status))),
      el('div', { class: 'kv' },
        el('div', {}, el('b', {}, 'party'), partySel),
        el('div', {}, el('b', {}, 'progress'), progressBar(row.f_progress)),
        el('div', {}, el('b', {}, 'type'), row.f_job_type || ''),
        el('div', {}, el('b', {}, 'initiator'), `${row.f_initiator_role} ${row.f_initiator_party_id}`),
        el('div', {}, el('b', {}, 'created'), fmtTime(row.f_create_time)),
        el('div', {}, el('b', {}, 'started'), fmtTime(row.f_start_time)),
        el('div', {}, el('b', {}, 'ended'), fmtTime(row.f_end_time)),
        el('div', {}, el('b', {}, 'duration'), fmtDuration(row.f_elapsed)),
        el('div', {}, el('b', {}, 'model'), `${row.f_model_id || ''} ${row.f_model_version || ''}`)),
      row.f_error ? el('div', { class: 'err', id: 'job-error' }, row.f_error) : null);
  }

  function drawConf() {
    confBox.replaceChildren(el('h3', {}, 'Job configuration'),
      el('details', {}, el('summary', {}, 'Runtime conf'), treeBox(st.conf)),
      el('details', {}, el('summary', {}, 'DSL'), treeBox(st.dsl)));
  }

  // --- component panel ---
  let panelGen = 0;
  let logState = null;
  function drawPanel() {
    panelGen++;
    logState = null;
    const n = st.selected;
    if (!n) return;
    const t = taskOf(n);
    const tabs = ['metrics', 'model', 'data', 'log', 'parameters', 'summary'];
    const body = el('div', { id: 'tab-body' });
    const bar = el('div', { class: 'tabs' }, tabs.map((k) => el('button', {
      class: k === st.tab ? 'active' : '', 'data-tab': k,
      onclick: () => { st.tab = k; drawPanel(); },
    }, k[0].toUpperCase() + k.slice(1))));
    setKids(panel, 
      el('h2', {}, el('span', { id: 'component-name' }, n), ' ', t ? badge(t.f_status) : badge('waiting'),
        el('span', { class: 'muted' }, ' ', (st.dsl.components[n] || {}).module || '')),
      t ? el('div', { class: 'kv muted' },
        el('div', {}, el('b', {}, 'task'), `${t.f_task_id || ''} v${t.f_task_version}`),
        el('div', {}, el('b', {}, 'started'), fmtTime(t.f_start_time)),
        el('div', {}, el('b', {}, 'duration'), fmtDuration(t.f_elapsed))) : null,
      t && t.f_error ? el('div', { class: 'err' }, t.f_error) : null,
      bar, body);
    const q = { job_id: jobId, role: st.party.role, party_id: String(st.party.party_id), component_name: n };
    const gen = panelGen;
    const fill = (p) => p.then((node) => { if (gen === panelGen) body.replaceChildren(node); })
      .catch((e) => { if (gen === panelGen) body.replaceChildren(errorBox(e)); });
    body.append(el('p', { class: 'muted' }, 'Loading…'));
    if (st.tab === 'metrics') fill(api('tracking/component/metric/all', q).then((m) => renderMetrics(m)));
    else if (st.tab === 'model') fill(api('tracking/component/output/model', q).then(renderModel));
    else if (st.tab === 'data') fill(api('tracking/component/output/data', { ...q, limit: 100 }).then(renderData));
    else if (st.tab === 'parameters') fill(api('tracking/component/parameters', q).then((p) => el('div', { id: 'parameters' }, treeBox(p))));
    else if (st.tab === 'summary') fill(api('tracking/component/summary/download', q).then((s) => el('div', { id: 'summary' }, s == null ? el('p', { class: 'muted' }, 'No summary.') : treeBox(s))));
    else if (st.tab === 'log') {
      const pre = el('pre', { class: 'log', id: 'log-pre' });
      const status = el('div', { class: 'muted', id: 'log-status' });
      body.replaceChildren(status, pre);
      logState = { pre, status, offset: 0, q: { job_id: jobId, role: st.party.role, party_id: String(st.party.party_id), component: n }, busy: false };
      tailLog();
    }
  }

  async function tailLog() {
    const ls = logState;
    if (!ls || ls.busy) return;
    ls.busy = true;
    try {
      for (let i = 0; i < 20; i++) {
        const d = await getJson('/board/api/log?' + new URLSearchParams({ ...ls.q, offset: ls.offset }));
        if (ls !== logState) return;
        if (d.offset < ls.offset) ls.pre.textContent = '';
        const atBottom = ls.pre.scrollTop + ls.pre.clientHeight >= ls.pre.scrollHeight - 20;
        if (d.text) ls.pre.append(d.text);
        if (atBottom) ls.pre.scrollTop = ls.pre.scrollHeight;
        ls.offset = d.offset;
        ls.status.textContent = d.missing ? 'No log yet.' : `${d.size} bytes · tailing every 2 s`;
        ls.pre.dataset.bytes = d.offset;
        if (d.offset >= d.size) break;
      }
    } catch (e) {
      ls.status.replaceChildren(errorBox(e));
    } finally {
      ls.busy = false;
    }
  }

  let inflight = false;
  async function refresh(first) {
    if (inflight) return;
    inflight = true;
    try {
      st.rows = await api('job/query', { job_id: jobId });
      if (!st.party) {
        const want = st.rows.find((r) => r.f_role === params.get('role') && String(r.f_party_id) === params.get('party_id'))
          || st.rows.find((r) => r.f_is_initiator) || st.rows[0];
        st.party = { role: want.f_role, party_id: want.f_party_id };
      }
      const row = st.rows.find((r) => r.f_role === st.party.role && String(r.f_party_id) === String(st.party.party_id)) || st.rows[0];
      if (first) {
        st.dsl = row.f_dsl || { components: {} };
        st.conf = row.f_runtime_conf || {};
        drawConf();
      }
      try {
        st.tasks = await api('job/task/query', { job_id: jobId });
      } catch (e) {
        st.tasks = [];
      }
      drawHeader();
      if (first && !st.selected) {
        const names = Object.keys(st.dsl.components || {});
        st.selected = names[names.length - 1] || null;
      }
      drawDag();
      // Reload the open tab when the selected task's state changes.
      const t = st.selected && taskOf(st.selected);
      const key = t ? `${t.f_status}:${t.f_task_version}` : '';
      if (first || st.taskStatus[st.selected] !== key) {
        st.taskStatus[st.selected] = key;
        drawPanel();
      } else if (logState) {
        tailLog();
      }
    } catch (e) {
      setKids(header, errorBox(e));
    } finally {
      inflight = false;
    }
  }

  function tick(first) {
    refresh(first).finally(() => later(() => tick(false), POLL_MS));
  }
  tick(true);
}

// ---------- metrics ----------

function lineChart(title, series, opts) {
  opts = opts || {};
  const W = 440, H = 270, L = 50, R = 12, T = 24, B = 36;
  // Points at "infinite" thresholds (KS curves start at +inf, stored clamped) are left out.
  const ok = (p) => isFinite(p[0]) && isFinite(p[1]) && Math.abs(p[0]) < 1e100 && Math.abs(p[1]) < 1e100;
  const pts = series.flatMap((s) => s.points).filter(ok);
  let x0 = Math.min(...pts.map((p) => p[0])), x1 = Math.max(...pts.map((p) => p[0]));
  let y0 = Math.min(...pts.map((p) => p[1])), y1 = Math.max(...pts.map((p) => p[1]));
  if (opts.unit) { x0 = Math.min(x0, 0); x1 = Math.max(x1, 1); y0 = Math.min(y0, 0); y1 = Math.max(y1, 1); }
  if (!pts.length) { x0 = 0; x1 = 1; y0 = 0; y1 = 1; }
  if (x1 === x0) { x1 = x0 + 1; }
  if (y1 === y0) { const d = Math.abs(y0) * 0.1 || 1; y0 -= d; y1 += d; }
  const sx = (x) => L + ((x - x0) / (x1 - x0)) * (W - L - R);
  const sy = (y) => H - B - ((y - y0) / (y1 - y0)) * (H - T - B);
  const root = svg('svg', { class: 'chart', width: W, height: H, viewBox: `0 0 ${W} ${H}` },
    svg('text', { x: W / 2, y: 14, 'text-anchor': 'middle', 'font-weight': 600, style: 'font-size:12px' }, title));
  for (let i = 0; i <= 4; i++) {
    const yv = y0 + (i / 4) * (y1 - y0), xv = x0 + (i / 4) * (x1 - x0);
    root.append(svg('line', { class: 'gridline', x1: L, x2: W - R, y1: sy(yv), y2: sy(yv) }),
      svg('text', { x: L - 4, y: sy(yv) + 3, 'text-anchor': 'end' }, fmtNum(Number(yv.toPrecision(3)))),
      svg('text', { x: sx(xv), y: H - B + 14, 'text-anchor': 'middle' }, fmtNum(Number(xv.toPrecision(3)))));
  }
  root.append(svg('line', { class: 'axis', x1: L, x2: W - R, y1: H - B, y2: H - B }),
    svg('line', { class: 'axis', x1: L, x2: L, y1: T, y2: H - B }));
  if (opts.xlabel) root.append(svg('text', { x: (L + W - R) / 2, y: H - 6, 'text-anchor': 'middle' }, opts.xlabel));
  if (opts.diagonal) root.append(svg('line', { x1: sx(0), y1: sy(0), x2: sx(1), y2: sy(1), stroke: '#bbb', 'stroke-dasharray': '4 4' }));
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const ps = s.points.filter(ok);
    const d = ps.map((p, j) => `${j ? 'L' : 'M'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
    root.append(svg('path', { class: 'series', d, stroke: c, 'data-series': s.name }, svg('title', {}, s.name)));
    if (ps.length <= 60) ps.forEach((p) => root.append(svg('circle', { cx: sx(p[0]), cy: sy(p[1]), r: 2.5, fill: c }, svg('title', {}, `${s.name}: (${fmtNum(p[0])}, ${fmtNum(p[1])})`))));
    if (series.length > 1) root.append(svg('text', { x: W - R - 4, y: T + 12 + i * 13, 'text-anchor': 'end', fill: c, style: `fill:${c}` }, s.name));
  });
  return root;
}

const CURVE_INFO = {
  ROC_EVALUATION: { title: 'ROC', xlabel: 'false positive rate', unit: true, diagonal: true },
  KS_EVALUATION: { title: 'KS', xlabel: 'threshold' },
  LIFT_EVALUATION: { title: 'Lift', xlabel: 'fraction of population' },
  GAIN_EVALUATION: { title: 'Gain', xlabel: 'fraction of population', unit: true, diagonal: true },
  LOSS: { title: 'Loss', xlabel: 'iteration' },
};

function findConfusion(v, depth) {
  if (!v || typeof v !== 'object' || (depth || 0) > 5) return null;
  const keys = Object.keys(v).map((k) => k.toLowerCase());
  if (['tp', 'fp', 'tn', 'fn'].every((k) => keys.includes(k))) {
    const g = (k) => v[Object.keys(v).find((x) => x.toLowerCase() === k)];
    return { tp: g('tp'), fp: g('fp'), tn: g('tn'), fn: g('fn') };
  }
  for (const x of Object.values(v)) {
    const r = findConfusion(x, (depth || 0) + 1);
    if (r) return r;
  }
  return null;
}

function confusionTable(c) {
  const one = (x) => (Array.isArray(x) ? x[x.length > 1 ? Math.floor(x.length / 2) : 0] : x);
  return el('div', { class: 'metric-card', id: 'confusion-matrix' }, el('div', { class: 'metric-name' }, 'confusion matrix'),
    el('table', { class: 'cm' },
      el('tr', {}, el('th', {}, ''), el('th', {}, 'predicted 1'), el('th', {}, 'predicted 0')),
      el('tr', {}, el('th', {}, 'actual 1'), el('td', {}, fmtNum(one(c.tp))), el('td', {}, fmtNum(one(c.fn)))),
      el('tr', {}, el('th', {}, 'actual 0'), el('td', {}, fmtNum(one(c.fp))), el('td', {}, fmtNum(one(c.tn))))));
}

function renderMetrics(all) {
  const box = el('div', { id: 'metrics' });
  const nss = Object.entries(all || {});
  if (!nss.length) { box.append(el('p', { class: 'muted' }, 'No metrics.')); return box; }
  for (const [ns, metrics] of nss) {
    const numbers = el('div', { class: 'metrics' });
    const charts = el('div', { class: 'metrics' });
    const groups = new Map();
    for (const [name, m] of Object.entries(metrics || {})) {
      const data = (m && m.data) || [];
      const type = (m && m.meta && m.meta.metric_type) || '';
      if (/confusion/i.test(name)) {
        const c = findConfusion(m) || (data.length === 4 ? { tp: data[0][1], fn: data[1][1], fp: data[2][1], tn: data[3][1] } : null);
        if (c) { charts.append(confusionTable(c)); continue; }
      }
      if (data.length === 1) {
        const v = data[0][1];
        numbers.append(el('div', { class: 'metric-card', dataset: { metric: name, ns } },
          el('div', { class: 'metric-number', dataset: { value: String(v) } }, fmtNum(v)),
          el('div', { class: 'metric-name' }, name, type ? el('span', {}, ' · ' + type) : null)));
      } else if (data.length > 1) {
        const key = CURVE_INFO[type] ? type : (/loss/i.test(name) ? 'LOSS:' + name : 'NAME:' + name);
        if (!groups.has(key)) groups.set(key, []);
        groups.get(key).push({ name, points: data.map((p) => [Number(p[0]), Number(p[1])]) });
      }
    }
    for (const [key, series] of groups) {
      const info = CURVE_INFO[key] || (key.startsWith('LOSS:') ? { ...CURVE_INFO.LOSS, title: key.slice(5) } : { title: key.slice(5), xlabel: '' });
      charts.append(el('div', { class: 'metric-card chart-card', dataset: { chart: info.title, ns } }, lineChart(info.title, series, info)));
    }
    box.append(el('h3', {}, ns), numbers, charts);
  }
  return box;
}

// ---------- models ----------

function findKey(v, pred, depth) {
  if (!v || typeof v !== 'object' || (depth || 0) > 6) return null;
  for (const [k, x] of Object.entries(v)) {
    if (pred(k, x)) return { key: k, value: x, parent: v };
  }
  for (const x of Object.values(v)) {
    const r = findKey(x, pred, (depth || 0) + 1);
    if (r) return r;
  }
  return null;
}

const isNumMap = (x) => x && typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length > 0 && Object.values(x).every((y) => typeof y === 'number');

function weightsView(param) {
  const w = findKey(param, (k, x) => /^weights?$/i.test(k) && isNumMap(x));
  if (!w) return null;
  const rows = Object.entries(w.value).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]));
  const icpt = w.parent.intercept;
  return el('div', { class: 'card', id: 'model-weights' }, el('h3', {}, 'Weights'),
    el('div', { class: 'scroll' }, el('table', {}, el('thead', {}, el('tr', {}, el('th', {}, 'feature'), el('th', {}, 'weight'))),
      el('tbody', {}, rows.map(([k, v]) => el('tr', {}, el('td', {}, k), el('td', {}, fmtNum(v)))),
        typeof icpt === 'number' ? el('tr', {}, el('td', {}, el('i', {}, 'intercept')), el('td', {}, fmtNum(icpt))) : null))));
}

function ivView(param) {
  const r = findKey(param, (k, x) => x && typeof x === 'object' && !Array.isArray(x) && Object.keys(x).length > 0
    && Object.values(x).every((c) => c && typeof c === 'object' && typeof c.iv === 'number'));
  if (!r) return null;
  const rows = Object.entries(r.value).sort((a, b) => b[1].iv - a[1].iv);
  const arr = (c, ...names) => { for (const n of names) if (Array.isArray(c[n])) return c[n]; return null; };
  return el('div', { class: 'card', id: 'model-iv' }, el('h3', {}, `IV (${r.key})`),
    el('div', { class: 'scroll' }, el('table', {}, el('thead', {}, el('tr', {}, ['feature', 'IV', 'bins', 'WOE', 'split points'].map((h) => el('th', {}, h)))),
      el('tbody', {}, rows.map(([k, c]) => {
        const woe = arr(c, 'woeArray', 'woe_array', 'woe');
        const sp = arr(c, 'splitPoints', 'split_points');
        return el('tr', {}, el('td', {}, k), el('td', {}, fmtNum(c.iv)), el('td', {}, woe ? woe.length : (sp ? sp.length : '')),
          el('td', {}, woe ? woe.map(fmtNum).join(', ') : ''), el('td', {}, sp ? sp.map(fmtNum).join(', ') : ''));
      })))));
}

function treeNodeView(nodes) {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const left = (n) => n.leftNodeId ?? n.left_node_id ?? n.left;
  const right = (n) => n.rightNodeId ?? n.right_node_id ?? n.right;
  const label = (n) => (n.isLeaf || n.is_leaf)
    ? `leaf ${n.id}: weight ${fmtNum(n.weight)}`
    : `node ${n.id}: feature ${n.fid ?? n.feature ?? '?'} ≤ ${fmtNum(n.bid ?? n.split ?? n.threshold ?? '?')}${n.sitename ? ' @' + n.sitename : ''}`;
  const walk = (n, depth) => {
    if (!n || depth > 20) return null;
    const kids = [byId.get(left(n)), byId.get(right(n))].filter(Boolean);
    if (!kids.length) return el('div', {}, label(n));
    return el('details', { open: depth < 2 }, el('summary', {}, label(n)), kids.map((k) => walk(k, depth + 1)));
  };
  const root = byId.get(0) || nodes[0];
  return walk(root, 0);
}

function treesView(param) {
  const r = findKey(param, (k, x) => /^trees_?$/i.test(k) && Array.isArray(x) && x.length > 0);
  const imp = findKey(param, (k, x) => /importance/i.test(k) && (Array.isArray(x) || isNumMap(x)));
  if (!r && !imp) return null;
  const card = el('div', { class: 'card', id: 'model-trees' }, el('h3', {}, r ? `Trees (${r.value.length})` : 'Feature importance'));
  if (imp) {
    let rows = Array.isArray(imp.value)
      ? imp.value.map((x) => [x.fullname || x.fid || x.feature || JSON.stringify(x), x.importance ?? x.main ?? x.value ?? 0])
      : Object.entries(imp.value);
    rows = rows.sort((a, b) => b[1] - a[1]).slice(0, 50);
    const max = Math.max(...rows.map((x) => Math.abs(x[1])), 1e-12);
    card.append(el('table', { id: 'feature-importance' }, el('thead', {}, el('tr', {}, el('th', {}, 'feature'), el('th', {}, 'importance'), el('th', {}, ''))),
      el('tbody', {}, rows.map(([k, v]) => el('tr', {}, el('td', {}, k), el('td', {}, fmtNum(v)),
        el('td', {}, el('span', { class: 'progress', style: 'width:160px' }, el('i', { style: `width:${(100 * Math.abs(v)) / max}%;background:#7048e8` }))))))));
  }
  if (r) {
    r.value.slice(0, 30).forEach((t, i) => {
      const nodes = Array.isArray(t) ? t : (t.tree || t.nodes || null);
      card.append(el('details', { class: 'tree' }, el('summary', {}, `tree ${i}`),
        Array.isArray(nodes) && nodes.length && typeof nodes[0] === 'object' ? treeNodeView(nodes) : jsonTree(t)));
    });
    if (r.value.length > 30) card.append(el('p', { class: 'muted' }, `… ${r.value.length - 30} more trees (see the raw model)`));
  }
  return card;
}

function renderModel(m) {
  const param = m && m.data;
  const box = el('div', { id: 'model' });
  const views = [weightsView(param), ivView(param), treesView(param)].filter(Boolean);
  box.append(...views);
  box.append(el('details', views.length ? {} : { open: true }, el('summary', {}, 'Model parameters (JSON)'), treeBox(param)));
  if (m && m.meta) box.append(el('details', {}, el('summary', {}, 'Model meta (JSON)'), treeBox(m.meta)));
  return box;
}

// ---------- output data ----------

function renderData(d) {
  const box = el('div', { id: 'output-data' });
  const tables = (d && d.data) || [];
  const metas = (d && d.meta) || [];
  tables.forEach((rows, i) => {
    const meta = metas[i] || {};
    const header = meta.header || [];
    const t = meta.table ? `${meta.table.namespace}.${meta.table.name}` : '';
    box.append(el('p', { class: 'muted' }, `output ${i}${t ? ' (' + t + ')' : ''}: showing ${rows.length} of ${meta.total ?? rows.length} rows`),
      el('div', { class: 'scroll' }, el('table', { class: 'data-table' },
        el('thead', {}, el('tr', {}, header.map((h) => el('th', {}, h)))),
        el('tbody', {}, rows.map((r) => el('tr', {}, (Array.isArray(r) ? r : [r]).map((c) => el('td', {}, typeof c === 'object' ? JSON.stringify(c) : String(c)))))))));
  });
  if (!tables.length) box.append(el('p', { class: 'muted' }, 'No output data.'));
  return box;
}
