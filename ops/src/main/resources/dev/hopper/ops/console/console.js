// hopper console: a small page over the console's JSON API. Every value from the server is put into the page
// with textContent or attribute setters, never as HTML, so a payload like <script> shows as text.
'use strict';

const COOKIE = 'hopper_console_token';
const FILTERS = ['reason', 'type', 'errorClass', 'key', 'olderThan', 'group'];

function token() {
  for (const part of document.cookie.split(';')) {
    const [k, v] = part.trim().split('=');
    if (k === COOKIE) return decodeURIComponent(v || '');
  }
  return '';
}

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'onclick' || k === 'onsubmit' || k === 'onchange') e[k] = v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children) {
    if (c === null || c === undefined) continue;
    e.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return e;
}

async function api(method, path, body) {
  const opts = { method, headers: {} };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.headers['X-Hopper-Token'] = token();
    opts.body = JSON.stringify(body);
  }
  const res = await fetch('/api/' + path, opts);
  let data = null;
  try { data = await res.json(); } catch (e) { data = { error: 'HTTP ' + res.status }; }
  if (!res.ok) throw new Error((data && data.error) || ('HTTP ' + res.status));
  return data;
}

function show(...nodes) {
  const main = document.getElementById('main');
  main.replaceChildren(...nodes);
}

function fail(e) {
  show(el('div', { class: 'error', id: 'error' }, String(e.message || e)));
}

function when(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  const ago = s < 90 ? s + 's' : s < 5400 ? Math.round(s / 60) + 'm' : s < 172800 ? Math.round(s / 3600) + 'h'
      : Math.round(s / 86400) + 'd';
  return ago + ' ago';
}

function spark(values) {
  const ns = 'http://www.w3.org/2000/svg';
  const w = 96, h = 20, max = Math.max(1, ...values);
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('class', 'spark');
  svg.setAttribute('width', w);
  svg.setAttribute('height', h);
  svg.setAttribute('viewBox', `0 0 ${w} ${h}`);
  const pts = values.map((v, i) => `${(i * (w - 2)) / (values.length - 1) + 1},${h - 2 - (v / max) * (h - 4)}`);
  const line = document.createElementNS(ns, 'polyline');
  line.setAttribute('points', pts.join(' '));
  svg.append(line);
  const title = document.createElementNS(ns, 'title');
  title.textContent = 'dead letters per 5 minutes, last hour: ' + values.join(' ');
  svg.append(title);
  return svg;
}

function indexNote(ix) {
  if (!ix) return null;
  if (ix.error) return el('div', { class: 'error' }, 'Reading the dead queue failed: ' + ix.error);
  if (!ix.readAt) return el('div', { class: 'notice' }, 'Reading the dead queue for the first time…');
  const parts = [`Indexed ${ix.indexed} of ${ix.depth} dead letters ${when(ix.readAt)} (read in ${ix.tookMillis} ms).`];
  if (!ix.complete) parts.push(` Only the first ${ix.indexed} are listed (index limit ${ix.limit}); replay or purge ` +
      'acts on the whole queue.');
  return el('div', { class: ix.complete ? 'muted' : 'notice', id: 'index-note' }, parts.join(''));
}

// ---- overview ----
async function overview() {
  const data = await api('GET', 'queues');
  document.getElementById('broker').textContent = data.broker;
  const rows = data.queues.map(q => {
    const delayed = Object.entries(q.delayed || {}).map(([t, n]) => `${t}: ${n === null ? '–' : n}`).join('  ');
    return el('tr', { 'data-queue': q.queue },
        el('td', {}, el('a', { href: '#/q/' + encodeURIComponent(q.queue), class: 'queue-link' }, q.queue),
            q.exists === false ? el('span', { class: 'bad' }, ' (missing)') : null),
        el('td', { class: 'num' }, q.ready ?? '–'),
        el('td', { class: 'num', title: 'needs the management plugin; AMQP reports ready messages only' },
            q.inFlight ?? 'n/a'),
        el('td', { class: 'mono' }, delayed),
        el('td', { class: 'num dead ' + (q.dead > 0 ? 'dead-hot' : '') }, q.dead ?? '–'),
        el('td', { class: 'num' }, q.consumers ?? '–'),
        el('td', {}, spark(q.lastHour || [])),
        el('td', { class: 'muted' }, q.index && q.index.readAt ? 'indexed ' + when(q.index.readAt)
            : q.index && q.index.error ? 'error' : 'reading…'));
  });
  show(el('h1', {}, 'Queues'),
      el('table', { id: 'queues' },
          el('thead', {}, el('tr', {}, ...['queue', 'ready', 'in flight', 'delayed (per tier)', 'dead', 'consumers',
              'dead, last hour', 'index'].map(h => el('th', {}, h)))),
          el('tbody', {}, ...rows)));
}

// ---- one queue's dead letters ----
function params() {
  const h = location.hash;
  const i = h.indexOf('?');
  return new URLSearchParams(i < 0 ? '' : h.substring(i + 1));
}

function go(queue, p) {
  const clean = new URLSearchParams();
  for (const [k, v] of p) if (v) clean.set(k, v);
  const qs = clean.toString();
  location.hash = '#/q/' + encodeURIComponent(queue) + (qs ? '?' + qs : '');
}

async function queuePage(queue) {
  const p = params();
  const apiParams = new URLSearchParams();
  for (const k of FILTERS.concat(['page'])) if (p.get(k)) apiParams.set(k, p.get(k));
  const q = encodeURIComponent(queue);
  const [dead, groups] = await Promise.all([api('GET', `queues/${q}/dead?${apiParams}`),
    api('GET', `queues/${q}/groups`)]);

  const form = el('form', { class: 'filters', id: 'filters' },
      ...FILTERS.map(k => el('label', {}, k === 'errorClass' ? 'error class' : k === 'olderThan' ? 'older than' : k,
          el('input', { type: 'text', name: k, id: 'filter-' + k, value: p.get(k) || '', size: k === 'key' ? 20 : 12,
            placeholder: k === 'olderThan' ? '7d' : '' }))),
      el('button', { type: 'submit', class: 'primary', id: 'apply' }, 'Filter'),
      el('button', { type: 'button', id: 'clear', onclick: () => go(queue, new URLSearchParams()) }, 'Clear'));
  form.onsubmit = ev => {
    ev.preventDefault();
    const np = new URLSearchParams();
    for (const k of FILTERS) np.set(k, form.elements[k].value.trim());
    go(queue, np);
  };

  const selected = new Set();
  const letterRows = dead.letters.map(l => el('tr', { 'data-id': l.id },
      el('td', {}, el('input', { type: 'checkbox', class: 'pick', onchange: ev => {
        if (ev.target.checked) selected.add(l.id); else selected.delete(l.id);
      } })),
      el('td', { class: 'mono' }, el('a', { class: 'letter-link',
        href: `#/q/${q}/letter/${encodeURIComponent(l.id)}` }, l.id || '(no id)')),
      el('td', {}, l.type), el('td', {}, l.reason), el('td', { class: 'mono' }, l.errorClass),
      el('td', {}, l.errorMessage), el('td', { class: 'mono' }, l.key), el('td', { class: 'num' }, l.attempt),
      el('td', { class: 'when', title: l.failedAt || '' }, when(l.failedAt))));

  const pager = el('div', { class: 'pager' },
      el('button', { id: 'prev', disabled: dead.page <= 1, onclick: () => { p.set('page', dead.page - 1); go(queue, p); } },
          '‹ Prev'),
      el('span', { id: 'page-info' }, `page ${dead.page} of ${dead.pages}`),
      el('button', { id: 'next', disabled: dead.page >= dead.pages,
        onclick: () => { p.set('page', dead.page + 1); go(queue, p); } }, 'Next ›'));

  const filterBody = {};
  for (const k of FILTERS) if (p.get(k) && k !== 'group') filterBody[k] = p.get(k);
  const action = actionPanel(queue);
  const groupRows = groups.groups.map(g => el('tr', { 'data-group': g.id },
      el('td', { class: 'mono' }, el('a', { href: `#/q/${q}?group=${encodeURIComponent(g.id)}` }, g.id)),
      el('td', { class: 'num group-count' }, g.count), el('td', {}, g.reason), el('td', { class: 'mono' }, g.errorClass),
      el('td', { class: 'mono frame' }, g.topFrame), el('td', { class: 'when' }, when(g.lastFailedAt)),
      el('td', { class: 'buttons' }, el('button', { class: 'group-replay', 'data-group': g.id,
        onclick: () => action.preview('replay', { group: g.id }, `group ${g.id}`) }, 'Replay…'), ' ',
      el('button', { class: 'group-purge', 'data-group': g.id,
        onclick: () => action.preview('purge', { group: g.id }, `group ${g.id}`) }, 'Purge…'))));

  const filterTarget = () => {
    const body = { filter: filterBody };
    if (p.get('group')) body.group = p.get('group');
    return body;
  };
  const selectionButtons = el('div', { class: 'row' },
      el('button', { id: 'replay-selected', onclick: () => selected.size
          ? action.preview('replay', { ids: [...selected] }, `${selected.size} selected`) : action.say('Select letters first.') },
          'Replay selected…'),
      el('button', { id: 'purge-selected', onclick: () => selected.size
          ? action.preview('purge', { ids: [...selected] }, `${selected.size} selected`) : action.say('Select letters first.') },
          'Purge selected…'),
      el('button', { id: 'replay-filter', onclick: () => action.preview('replay', filterTarget(), 'the filter: ' + dead.filter) },
          'Replay all matching…'),
      el('button', { id: 'purge-filter', onclick: () => action.preview('purge', filterTarget(), 'the filter: ' + dead.filter) },
          'Purge all matching…'));

  show(el('h1', {}, el('a', { href: '#/' }, 'Queues'), ' / ', queue, ' — dead letters'),
      indexNote(dead.index),
      form,
      el('h2', {}, 'Groups'),
      el('table', { id: 'groups' }, el('thead', {}, el('tr', {}, ...['group', 'count', 'reason', 'error class',
          'top frame', 'last failed', ''].map(h => el('th', {}, h)))), el('tbody', {}, ...groupRows)),
      el('h2', {}, el('span', { id: 'matched' }, String(dead.matched)), ' dead letters match ',
          el('span', { class: 'muted mono' }, dead.filter)),
      action.panel(selectionButtons),
      el('table', { id: 'letters' }, el('thead', {}, el('tr', {}, ...['', 'id', 'type', 'reason', 'error class',
          'message', 'key', 'attempts', 'failed'].map(h => el('th', {}, h)))), el('tbody', {}, ...letterRows)),
      pager);
}

// The replay/purge panel: preview (dry run) first, then a confirmation that does it.
function actionPanel(queue) {
  const q = encodeURIComponent(queue);
  const reset = el('input', { type: 'checkbox', id: 'reset-attempts' });
  const to = el('input', { type: 'text', id: 'replay-to', size: 14, placeholder: 'origin queue' });
  const rate = el('input', { type: 'number', id: 'replay-rate', min: 0, value: 0, style: 'width:6em' });
  const out = el('div', { id: 'action-out' });
  const say = (text, cls) => out.replaceChildren(el('div', { class: cls || 'notice', id: 'action-message' }, text));
  async function run(verb, target, label, dryRun) {
    const body = Object.assign({}, target, { dryRun });
    if (verb === 'replay') {
      body.resetAttempts = reset.checked;
      if (to.value.trim()) body.to = to.value.trim();
      body.rate = parseInt(rate.value || '0', 10) || 0;
    }
    say((dryRun ? 'Previewing ' : 'Running ') + verb + ' of ' + label + '…');
    let r;
    try {
      r = await api('POST', `queues/${q}/${verb}`, body);
    } catch (e) {
      say(String(e.message), 'error');
      return;
    }
    if (dryRun) {
      const confirm = el('button', { class: verb === 'purge' ? 'danger' : 'primary', id: 'confirm',
        onclick: () => run(verb, target, label, false) }, `Confirm: ${verb} ${r.selected}`);
      const cancel = el('button', { id: 'cancel', onclick: () => out.replaceChildren() }, 'Cancel');
      out.replaceChildren(el('div', { class: 'notice', id: 'preview' },
          el('span', { id: 'preview-text' }, `Dry run: ${verb} would ${verb === 'purge' ? 'delete' : 'send back'} ` +
            `${r.selected} of ${r.depth} dead letters (${label}). Nothing has changed yet.`),
          r.warning ? el('div', { class: 'bad' }, r.warning) : null,
          el('div', { class: 'row' }, confirm, cancel)));
    } else {
      const n = verb === 'replay' ? r.replayed : r.purged;
      const failed = r.failed ? ` ${r.failed} failed and stayed: ${r.firstFailure}` : '';
      say(`${verb === 'replay' ? 'Replayed' : 'Purged'} ${n} dead letters; ${r.deadAfter} left.${failed}`,
          r.failed ? 'error' : 'notice');
      const msg = out.firstChild;
      await route();
      const again = document.getElementById('action-out');
      if (again) again.replaceChildren(msg);
    }
  }
  return {
    say,
    preview: (verb, target, label) => run(verb, target, label, true),
    panel: (buttons) => el('div', { class: 'panel', id: 'actions' }, buttons,
        el('div', { class: 'row' }, el('span', { class: 'muted' }, 'Replay options:'),
            el('label', {}, reset, ' reset attempts'), el('label', {}, 'to ', to), el('label', {}, 'rate/s ', rate)),
        out),
  };
}

// ---- one dead letter ----
async function letterPage(queue, id) {
  const q = encodeURIComponent(queue);
  const d = await api('GET', `queues/${q}/dead/${encodeURIComponent(id)}`);
  const kv = (obj) => el('dl', { class: 'kv' }, ...Object.entries(obj).flatMap(([k, v]) =>
      [el('dt', {}, k), el('dd', {}, typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v))]));
  const action = actionPanel(queue);
  show(el('h1', {}, el('a', { href: '#/' }, 'Queues'), ' / ', el('a', { href: `#/q/${q}` }, queue), ' / ',
      el('span', { class: 'mono', id: 'letter-id' }, d.id)),
      el('h2', {}, 'Failure'),
      kv({ reason: d.reason, 'error class': d.errorClass, message: d.errorMessage, group: d.group, attempt: d.attempt,
        'failed at': d.failedAt, key: d.key, type: d.type, 'origin queue': d.originQueue }),
      el('pre', { id: 'stack' }, d.stack || '(no stack)'),
      el('h2', {}, 'Payload ', el('span', { class: 'muted' }, `${d.payloadEncoding}, ${d.payloadBytes} bytes` +
          (d.payloadTruncated ? ', cut' : ''))),
      el('pre', { id: 'payload' }, d.payload),
      el('h2', {}, 'Headers'), el('div', { id: 'headers' }, kv(d.headers)),
      el('h2', {}, 'Properties'), kv(d.properties),
      action.panel(el('div', { class: 'row' },
          el('button', { id: 'replay-one', onclick: () => action.preview('replay', { ids: [d.id] }, 'this letter') },
              'Replay…'),
          el('button', { id: 'purge-one', onclick: () => action.preview('purge', { ids: [d.id] }, 'this letter') },
              'Purge…'))));
}

async function route() {
  const h = location.hash.replace(/^#/, '') || '/';
  const path = h.split('?')[0];
  const m = path.match(/^\/q\/([^/]+)(?:\/letter\/(.+))?$/);
  try {
    if (m && m[2]) await letterPage(decodeURIComponent(m[1]), decodeURIComponent(m[2]));
    else if (m) await queuePage(decodeURIComponent(m[1]));
    else await overview();
  } catch (e) {
    fail(e);
  }
}

function setupToken() {
  const form = document.getElementById('token-form');
  if (!token()) form.hidden = false;
  form.onsubmit = ev => {
    ev.preventDefault();
    const v = document.getElementById('token-input').value.trim();
    document.cookie = `${COOKIE}=${encodeURIComponent(v)}; path=/; SameSite=Strict`;
    form.hidden = true;
  };
}

window.addEventListener('hashchange', route);
document.addEventListener('DOMContentLoaded', () => { setupToken(); route(); });
