// Flamewright's web UI: services and instances, a service's tasks with the New task form, and a task's live
// progress. Every name shown comes from agents and is untrusted: text goes in through textContent only (and the
// flame graph paints names on a canvas, flame.js).

import { FlameGraph } from './flame.js';

const view = document.getElementById('view');
const crumbs = document.getElementById('crumbs');
const message = document.getElementById('message');

const EVENTS = ['CPU', 'HEAP', 'ALLOCS', 'GOROUTINE', 'THREADCREATE', 'BLOCK', 'MUTEX'];
const TIMED = new Set(['CPU', 'BLOCK', 'MUTEX']);
const REFRESH_MS = 2000;
let refreshTimer = null;

// The API token, when the server asks for one: kept in this browser until "Forget token".
const TOKEN_KEY = 'flamewright.apiToken';
const storedToken = () => localStorage.getItem(TOKEN_KEY);
const authHeaders = () => (storedToken() ? { authorization: `Bearer ${storedToken()}` } : {});

// Thrown when the server wants a token (or refused the stored one): the page asks for it instead of failing.
class TokenNeeded extends Error {}

async function gql(query, variables = {}) {
  const body = await gqlAnswer(query, variables);
  if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
  return body.data;
}

// The whole answer, data and errors: for a document whose fields may fail on their own.
async function gqlAnswer(query, variables = {}) {
  let response;
  try {
    response = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...authHeaders() },
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    throw new Error(`the server cannot be reached (${e.message})`);
  }
  if (response.status === 401) throw new TokenNeeded(storedToken() ? 'The server refused the stored API token.' : 'This server asks for an API token.');
  let body;
  try {
    body = await response.json();
  } catch {
    throw new Error(`the server answered HTTP ${response.status} with something that is not GraphQL`);
  }
  return body;
}

// What the stored token allows: 'full' or 'read-only' (a read-only token sees no New task form).
async function accessLevel() {
  const response = await fetch('/api/access', { headers: authHeaders() });
  if (response.status === 401) throw new TokenNeeded('This server asks for an API token.');
  return (await response.json()).access;
}

function tokenView(reason) {
  setCrumbs(el('span', {}, 'API token'));
  const input = el('input', { type: 'password', id: 'api-token', autocomplete: 'off', required: true });
  const form = el('form', { id: 'token-form', class: 'task' },
    el('label', {}, 'API token', input),
    el('button', { type: 'submit' }, 'Use token'));
  form.addEventListener('submit', e => {
    e.preventDefault();
    if (!input.value) return;
    localStorage.setItem(TOKEN_KEY, input.value);
    showForget();
    route();
  });
  render(el('h1', {}, 'API token'), el('p', { id: 'token-reason' }, reason,
    ' Ask the server\'s operator for one (its ApiToken, or ReadOnlyApiToken to look without creating tasks).'), form);
  input.focus();
}

// "Forget token" in the header while a token is stored.
function showForget() {
  document.getElementById('forget-token')?.remove();
  if (!storedToken()) return;
  const forget = el('a', { href: '#/', id: 'forget-token', onclick: () => { localStorage.removeItem(TOKEN_KEY); showForget(); } }, 'Forget token');
  document.querySelector('header').append(forget);
}

// A download through fetch when a token is stored (a plain link cannot carry the Authorization header).
async function downloadWithToken(event) {
  if (!storedToken()) return;
  event.preventDefault();
  const link = event.currentTarget;
  try {
    const response = await fetch(link.href, { headers: authHeaders() });
    if (!response.ok) throw new Error(`the download failed: HTTP ${response.status} ${(await response.text()).slice(0, 200)}`);
    const name = /filename="?([^";]+)"?/.exec(response.headers.get('content-disposition') || '')?.[1] || 'profile';
    const url = URL.createObjectURL(await response.blob());
    const save = el('a', { href: url, download: name });
    document.body.append(save);
    save.click();
    save.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  } catch (e) { showError(e.message); }
}

// Small DOM helpers: el('td', {class: 'x'}, 'text', child) — strings become text nodes, never HTML.
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function showError(text) { message.textContent = text; message.hidden = false; }
function clearError() { message.hidden = true; message.textContent = ''; }
function setCrumbs(...parts) { crumbs.replaceChildren(...parts.flatMap((p, i) => (i ? [' › ', p] : [p]))); }
function render(...nodes) { view.replaceChildren(...nodes); }
const time = ms => new Date(ms).toLocaleString();

// SkyWalking's Duration is in the server's local time: build "yyyy-MM-dd HHmm" from its clock and offset.
async function lastMinutes(minutes) {
  const { getTimeInfo } = await gql('{ getTimeInfo { timezone currentTimestamp } }');
  const tz = getTimeInfo.timezone || '+0000';
  const offset = (tz[0] === '-' ? -1 : 1) * (parseInt(tz.slice(1, 3), 10) * 60 + parseInt(tz.slice(3, 5), 10));
  const fmt = ms => {
    const d = new Date(ms + offset * 60000);
    const p = n => String(n).padStart(2, '0');
    return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}${p(d.getUTCMinutes())}`;
  };
  return { start: fmt(getTimeInfo.currentTimestamp - minutes * 60000), end: fmt(getTimeInfo.currentTimestamp), step: 'MINUTE' };
}

async function servicesView() {
  setCrumbs(el('span', {}, 'Services'));
  const { listServices } = await gql('{ listServices(layer: "GENERAL") { id name } }');
  if (!listServices.length) {
    render(el('h1', {}, 'Services'), el('div', { class: 'empty', id: 'empty' },
      el('p', {}, 'No service has reported yet. Connect an agent to this server:'),
      el('pre', {}, `flamewright agent --server ${location.hostname}:11800 --service NAME --instance NAME --target http://127.0.0.1:6060`),
      el('p', { class: 'muted' }, 'or point a SkyWalking Go agent at port 11800 of this host. Services appear here when their agents register.')));
    return;
  }
  const duration = await lastMinutes(60);
  const rows = [];
  for (const service of listServices) {
    const { listInstances } = await gql('query ($d: Duration!, $s: ID!) { listInstances(duration: $d, serviceId: $s) { id name language } }', { d: duration, s: service.id });
    rows.push(el('tr', {},
      el('td', {}, el('a', { href: `#/services/${encodeURIComponent(service.id)}`, class: 'service' }, service.name)),
      el('td', {}, String(listInstances.length)),
      el('td', { class: 'optional' }, listInstances.map(i => `${i.name} (${i.language})`).join(', ') || '—')));
  }
  render(el('h1', {}, 'Services'),
    el('table', { id: 'services' }, el('thead', {}, el('tr', {}, el('th', {}, 'Service'), el('th', {}, 'Live instances (last hour)'), el('th', { class: 'optional' }, 'Instances'))), el('tbody', {}, rows)));
}

async function serviceView(serviceId) {
  const { findService } = await gql('query ($id: String!) { findService(serviceId: $id) { id name } }', { id: serviceId });
  if (!findService) throw new Error(`unknown service ${serviceId}`);
  setCrumbs(el('a', { href: '#/' }, 'Services'), el('span', {}, findService.name));
  const duration = await lastMinutes(60);
  const [{ listInstances }, { queryPprofTaskList }, access] = await Promise.all([
    gql('query ($d: Duration!, $s: ID!) { listInstances(duration: $d, serviceId: $s) { id name language lastSeen attributes { name value } } }', { d: duration, s: serviceId }),
    gql('query ($r: PprofTaskListRequest!) { queryPprofTaskList(request: $r) { errorReason tasks { id createTime events duration serviceInstanceIds } } }', { r: { serviceId, limit: 20 } }),
    accessLevel(),
  ]);
  const tasks = queryPprofTaskList.tasks || [];
  const progress = await Promise.all(tasks.map(t => gql('query ($id: String!) { queryPprofTaskProgress(taskId: $id) { instances { instanceName state } } }', { id: t.id })));
  const taskRows = tasks.map((t, i) => el('tr', {},
    el('td', {}, el('a', { href: `#/tasks/${encodeURIComponent(t.id)}` }, time(t.createTime))),
    el('td', {}, t.events + (t.duration ? ` · ${t.duration} min` : '')),
    el('td', {}, progress[i].queryPprofTaskProgress.instances.map(p => el('span', { class: `state state-${p.state}` }, `${p.instanceName}: ${p.state} `)))));
  const instanceTable = el('table', { id: 'service-instances' },
    el('thead', {}, el('tr', {}, el('th', {}, 'Instance'), el('th', {}, 'Language'), el('th', {}, 'Last seen'), el('th', { class: 'optional' }, 'Properties'))),
    el('tbody', {}, listInstances.map(i => el('tr', {}, el('td', {}, i.name), el('td', {}, i.language), el('td', {}, i.lastSeen ? time(i.lastSeen) : '—'),
      el('td', { class: 'optional' }, i.attributes.map(a => `${a.name}=${a.value}`).join(', '))))));
  const form = access === 'read-only'
    ? el('p', { class: 'muted', id: 'read-only' }, 'Read-only access: tasks are created by holders of the full API token.')
    : taskForm(serviceId, listInstances);
  render(el('h1', {}, findService.name), el('h2', {}, 'Instances seen in the last hour'), instanceTable, form,
    el('h2', {}, 'Tasks'),
    tasks.length ? el('table', { id: 'tasks' }, el('thead', {}, el('tr', {}, el('th', {}, 'Created'), el('th', {}, 'Event'), el('th', {}, 'Instances'))), el('tbody', {}, taskRows))
      : el('p', { class: 'muted', id: 'no-tasks' }, 'No task yet: create one above.'));
}

function taskForm(serviceId, instances) {
  const error = el('div', { class: 'field-error', id: 'form-error', role: 'status' });
  // The server's reason goes next to the field it is about (its messages start with the field's name).
  const fieldErrors = {
    duration: el('div', { class: 'field-error', id: 'duration-error', role: 'status' }),
    dumpPeriod: el('div', { class: 'field-error', id: 'dump-period-error', role: 'status' }),
    serviceInstanceIds: el('div', { class: 'field-error', id: 'instances-error', role: 'status' }),
  };
  const showReason = reason => {
    const field = Object.keys(fieldErrors).find(f => reason.startsWith(f));
    (field ? fieldErrors[field] : error).textContent = reason;
  };
  const boxes = instances.map(i => el('label', {}, el('input', { type: 'checkbox', name: 'instance', value: i.id, checked: true }), ` ${i.name}`));
  const event = el('select', { name: 'event', id: 'event' }, EVENTS.map(e => el('option', { value: e }, e)));
  const duration = el('input', { type: 'number', name: 'duration', id: 'duration', min: 1, max: 15, value: 1 });
  const dump = el('input', { type: 'number', name: 'dumpPeriod', id: 'dump-period', min: 1, value: 10000 });
  const durationLabel = el('label', {}, 'Duration, minutes (1–15)', duration, fieldErrors.duration);
  const dumpLabel = el('label', {}, 'Dump period', dump,
    el('span', { class: 'hint', id: 'dump-hint' }, ''), fieldErrors.dumpPeriod);
  const sync = () => {
    durationLabel.hidden = !TIMED.has(event.value);
    dumpLabel.hidden = !(event.value === 'BLOCK' || event.value === 'MUTEX');
    document.getElementById('dump-hint')?.replaceChildren(event.value === 'BLOCK'
      ? 'block profile rate, nanoseconds: waits at least this long are all recorded'
      : 'mutex profile fraction: 1 in this many contention events is recorded');
  };
  event.addEventListener('change', sync);
  // novalidate: the server's rules and words decide, shown next to the form, not the browser's.
  const form = el('form', { class: 'task', id: 'new-task', novalidate: true },
    el('h2', {}, 'New task'),
    instances.length ? el('fieldset', {}, el('legend', {}, 'Instances'), boxes, fieldErrors.serviceInstanceIds) : el('p', { class: 'muted' }, 'No live instance: start an agent first.'),
    el('label', {}, 'Event', event), durationLabel, dumpLabel, error,
    el('button', { type: 'submit' }, 'Start task'));
  form.addEventListener('submit', async e => {
    e.preventDefault();
    for (const node of [error, ...Object.values(fieldErrors)]) node.textContent = '';
    const request = {
      serviceId,
      serviceInstanceIds: [...form.querySelectorAll('input[name=instance]:checked')].map(b => b.value),
      events: event.value,
      duration: TIMED.has(event.value) ? Number(duration.value) : null,
      dumpPeriod: event.value === 'BLOCK' || event.value === 'MUTEX' ? Number(dump.value) : null,
    };
    try {
      const { createPprofTask: result } = await gql('mutation ($r: PprofTaskCreationRequest!) { createPprofTask(pprofTaskCreationRequest: $r) { code errorReason id } }', { r: request });
      if (result.code !== 'SUCCESS') { showReason(result.errorReason || result.code); return; }
      location.hash = `#/tasks/${encodeURIComponent(result.id)}`;
    } catch (err) { error.textContent = err.message; }
  });
  queueMicrotask(sync);
  return form;
}

async function taskView(taskId) {
  const serviceId = taskId.slice(taskId.indexOf('_') + 1);
  const [{ queryPprofTaskProgress: progress }, { queryPprofTaskList: list }] = await Promise.all([
    gql('query ($id: String!) { queryPprofTaskProgress(taskId: $id) { instances { instanceId instanceName state reason since } logs { instanceName operationType operationTime message } } }', { id: taskId }),
    gql('query ($r: PprofTaskListRequest!) { queryPprofTaskList(request: $r) { tasks { id createTime events duration dumpPeriod dispatchUntil } } }', { r: { serviceId, limit: 1000 } }),
  ]);
  const task = (list.tasks || []).find(t => t.id === taskId);
  setCrumbs(el('a', { href: '#/' }, 'Services'), el('a', { href: `#/services/${encodeURIComponent(serviceId)}` }, 'Service'), el('span', {}, 'Task'));
  const done = progress.instances.every(i => i.state === 'FINISHED' || i.state === 'FAILED');
  const now = Date.now();
  let left = '';
  if (task && !done) {
    const end = task.createTime + (task.duration || 0) * 60000;
    left = end > now ? `about ${Math.ceil((end - now) / 1000)} s of profiling left` : 'waiting for the agents';
  }
  render(
    el('h1', {}, task ? `${task.events}${task.duration ? ` · ${task.duration} min` : ''} — ${time(task.createTime)}` : taskId),
    el('p', { class: 'muted', id: 'task-status' }, done ? 'Done.' : `Running: ${left}. This page refreshes by itself.`,
      progress.instances.some(i => i.state === 'FINISHED') ? [' ', el('a', { href: `#/analysis/${encodeURIComponent(taskId)}`, id: 'analyse' }, 'Open the flame graph')] : []),
    el('table', { id: 'instances' },
      el('thead', {}, el('tr', {}, el('th', {}, 'Instance'), el('th', {}, 'State'), el('th', { class: 'optional' }, 'Since'), el('th', {}, 'Reason'))),
      el('tbody', {}, progress.instances.map(i => el('tr', {},
        el('td', {}, i.instanceName),
        el('td', {}, el('span', { class: `state state-${i.state}` }, i.state)),
        el('td', { class: 'optional' }, i.since ? time(i.since) : '—'),
        el('td', {}, i.reason || ''))))),
    el('h2', {}, 'Log'),
    el('table', { id: 'logs' },
      el('thead', {}, el('tr', {}, el('th', {}, 'Time'), el('th', {}, 'Instance'), el('th', {}, 'Operation'), el('th', { class: 'optional' }, 'Message'))),
      el('tbody', {}, progress.logs.map(l => el('tr', {}, el('td', {}, time(l.operationTime)), el('td', {}, l.instanceName), el('td', {}, l.operationType), el('td', { class: 'optional' }, l.message || ''))))));
  if (!done) refreshTimer = setTimeout(() => route(true), REFRESH_MS);
}

// ---- analysis: flame graph and top table -------------------------------------------------------------

const UNIT_FORMATS = {
  nanoseconds: v => (Math.abs(v) >= 1e9 ? `${(v / 1e9).toFixed(2)} s` : `${(v / 1e6).toFixed(2)} ms`),
  bytes: v => (Math.abs(v) >= 1 << 20 ? `${(v / 1048576).toFixed(2)} MB` : `${(v / 1024).toFixed(1)} kB`),
};
const formatValue = (v, unit) => (UNIT_FORMATS[unit] || (x => `${x} ${unit || 'count'}`))(v);

async function analysisView(taskId) {
  const serviceId = taskId.slice(taskId.indexOf('_') + 1);
  setCrumbs(el('a', { href: '#/' }, 'Services'), el('a', { href: `#/services/${encodeURIComponent(serviceId)}` }, 'Service'),
    el('a', { href: `#/tasks/${encodeURIComponent(taskId)}` }, 'Task'), el('span', {}, 'Flame graph'));
  // The graph takes the window's whole width: the page leaves its reading width while it shows one.
  view.classList.add('wide');
  // One round trip: the task, its sample types, the service's tasks, and the default view (every instance that
  // uploaded, the event's sample type, functions) with its top table, which the form below starts out selecting.
  const firstRequest = { taskId, instanceIds: [], sampleType: null, granularity: 'FUNCTION', focus: null, ignore: null };
  const answer = await gqlAnswer(`query ($id: String!, $tid: ID!, $l: PprofTaskListRequest!, $r: PprofAnalyzationRequest!, $w: Int!) {
    queryPprofTaskProgress(taskId: $id) { instances { instanceId instanceName state } }
    queryPprofSampleTypes(taskId: $tid) { index type unit isDefault }
    queryPprofTaskList(request: $l) { tasks { id events createTime } }
    view: queryPprofFlameView(request: $r, zoom: [], width: $w) { ${VIEW_FIELDS} }
    top: queryPprofTop(request: $r, limit: ${TOP_ROWS}) { ${TOP_FIELDS} } }`,
  { id: taskId, tid: taskId, l: { serviceId, limit: 50 }, r: firstRequest, w: graphWidth(view) });
  // The view may fail on its own (nothing uploaded yet): then the form's first Show asks again and says why.
  const failed = (answer.errors || []).find(e => !['view', 'top'].includes((e.path || [])[0]));
  if (failed || !answer.data) throw new Error(failed ? failed.message : 'the server sent no data');
  const { queryPprofTaskProgress: progress, queryPprofSampleTypes: types, queryPprofTaskList: others } = answer.data;
  const firstLook = answer.data.view && answer.data.top ? { queryPprofFlameView: answer.data.view, queryPprofTop: answer.data.top } : null;
  const finished = progress.instances.filter(i => i.state === 'FINISHED');
  const boxes = finished.map(i => el('label', {}, el('input', { type: 'checkbox', name: 'instance', value: i.instanceId, checked: true }), ` ${i.instanceName}`));
  const sampleType = el('select', { id: 'sample-type' }, types.map(t => el('option', { value: t.type, selected: t.isDefault }, `${t.type} (${t.unit})`)));
  const granularity = el('select', { id: 'granularity' }, el('option', { value: 'FUNCTION' }, 'function'), el('option', { value: 'LINE' }, 'line'));
  const compare = el('select', { id: 'compare', 'aria-label': 'Compare with' }, el('option', { value: '' }, 'no comparison'),
    finished.length > 1 ? finished.map(i => el('option', { value: `${taskId}|${i.instanceId}` }, `diff against this task's ${i.instanceName}`)) : [],
    (others.tasks || []).filter(t => t.id !== taskId).map(t => el('option', { value: t.id }, `diff against ${t.events} of ${time(t.createTime)}`)));
  const legend = el('p', { id: 'legend', hidden: true }, el('span', { class: 'swatch grew' }, ' '), ' larger share than in the base  ',
    el('span', { class: 'swatch shrank' }, ' '), ' smaller share  ', el('span', { class: 'swatch same' }, ' '), ' about the same (±0.1 points)');
  const orientation = el('select', { id: 'orientation', 'aria-label': 'Orientation' }, el('option', { value: 'icicle' }, 'icicle (root on top)'), el('option', { value: 'flame' }, 'flame (root at the bottom)'));
  const focus = el('input', { id: 'focus', placeholder: 'focus regex' });
  const ignore = el('input', { id: 'ignore', placeholder: 'ignore regex' });
  const search = el('input', { id: 'search', type: 'search', placeholder: 'search (regex)' });
  const matched = el('span', { id: 'matched', class: 'muted' });
  const trail = el('nav', { id: 'zoom-trail', 'aria-label': 'Zoom' });
  const container = el('div', { id: 'flame' });
  const tip = el('div', { id: 'tooltip', hidden: true });
  // Read out by screen readers as the keyboard moves between frames.
  const spoken = el('p', { id: 'frame-focus', class: 'visually-hidden', 'aria-live': 'polite' });
  const top = el('table', { id: 'top' });
  const downloads = el('p', { id: 'downloads' });
  const omitted = el('p', { class: 'muted', id: 'omitted', hidden: true });
  const form = el('form', { id: 'analysis-form', class: 'controls' },
    el('fieldset', {}, el('legend', {}, 'Instances'), boxes), sampleType, granularity, focus, ignore, compare, el('button', { type: 'submit' }, 'Show'));
  render(el('h1', {}, 'Flame graph'), form, el('div', { class: 'controls' }, search, matched, orientation), legend, trail, container, spoken, tip, omitted, downloads,
    el('h2', {}, 'Top functions'), top);

  const page = { state: null, trail, tip, search, matched, top, spoken };
  let resizeTimer = 0;
  page.flame = new FlameGraph(container, {
    zoom: f => zoomInto(page, f),
    back: () => zoomOut(page),
    hover: (f, x, y) => (f ? showTip(page, f.node, x, y) : (tip.hidden = true)),
    focus: (f, x, y) => {
      showTip(page, f.node, x, y);
      spoken.textContent = `${f.node.codeSignature}, ${share(f.node.total, page.state.root.total)} of all`;
    },
    // A view was cut for the width it was asked for: a wider or narrower graph asks again once resizing pauses.
    resized: () => {
      if (!page.state?.view) return;
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => reloadView(page), 300);
    },
  });
  // For the browser tests: what is laid out, and which rows the canvas shows ({ top, canvasHeight } in CSS pixels).
  window.flamewright = { frames: () => page.flame.rectangles(), painted: () => page.flame.painted };
  compare.addEventListener('change', () => load());

  let searchTimer = 0;
  search.addEventListener('input', () => {
    if (!page.state) return;
    if (!page.state.view) { drawFlame(page); return; }
    // The server matches the pattern over the whole zoomed frame, narrow frames included: asked once typing pauses.
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => reloadView(page), 200);
  });
  orientation.addEventListener('change', () => { if (page.state) { page.state.flame = orientation.value === 'flame'; drawFlame(page); } });
  form.addEventListener('submit', async e => {
    e.preventDefault();
    await load();
  });

  // firstLook: the default view fetched with the page, shown without asking again.
  async function load(firstLook = null) {
    const request = firstLook ? { ...firstRequest, instanceIds: finished.map(i => i.instanceId), sampleType: sampleType.value || null } : {
      taskId,
      instanceIds: [...form.querySelectorAll('input[name=instance]:checked')].map(b => b.value),
      sampleType: sampleType.value || null,
      granularity: granularity.value,
      focus: focus.value || null,
      ignore: ignore.value || null,
    };
    try {
      // The server sends what a graph this wide draws (frames of a pixel or more, narrower ones summed per parent)
      // and one page of the top table; zooming and searching ask again, answered from the server's cached tree.
      const data = firstLook || await gql(`query ($r: PprofAnalyzationRequest!, $w: Int!, $search: String) {
        queryPprofFlameView(request: $r, zoom: [], width: $w, search: $search) { ${VIEW_FIELDS} }
        queryPprofTop(request: $r, limit: ${TOP_ROWS}) { ${TOP_FIELDS} } }`, { r: request, w: graphWidth(container), search: search.value || null });
      clearError();
      let state = viewLayout(data.queryPprofFlameView, request, [], search.value);
      state.topRows = data.queryPprofTop;
      let diffOmitted = 0;
      legend.hidden = !compare.value;
      if (compare.value) {
        // Diff mode: widths are the selection's values, colours the change of each frame's share against the base.
        const diff = await gql(`query ($b: PprofAnalyzationRequest!, $t: PprofAnalyzationRequest!) {
          queryPprofDiff(base: $b, target: $t) { sampleType { type unit } omittedElements elements { id parentId codeSignature baseTotal baseSelf targetTotal targetSelf } } }`,
        { b: { taskId: compare.value.split('|')[0], instanceIds: compare.value.includes('|') ? [compare.value.split('|')[1]] : [], sampleType: request.sampleType, granularity: request.granularity }, t: request });
        diffOmitted = diff.queryPprofDiff.omittedElements;
        const topRows = state.topRows;
        state = layout(diff.queryPprofDiff.elements.map(e => ({ ...e, total: e.targetTotal, self: e.targetSelf, base: e.baseTotal })), diff.queryPprofDiff.sampleType);
        state.topRows = topRows;
        state.request = request;
        state.diff = true;
        state.baseRoot = state.root.base;
      }
      omitted.hidden = !diffOmitted;
      omitted.textContent = diffOmitted ? `${diffOmitted.toLocaleString()} lighter frames are not drawn (the server sends the heaviest only); the downloads below hold every frame.` : '';
      state.flame = orientation.value === 'flame';
      page.state = state;
      const query = new URLSearchParams({ instances: request.instanceIds.join(','), sampleType: request.sampleType || '', granularity: request.granularity.toLowerCase() });
      downloads.replaceChildren('Download: ', ...['pprof', 'folded', 'svg', 'speedscope'].flatMap((f, i) => [i ? ' · ' : '',
        el('a', { href: `/api/tasks/${encodeURIComponent(taskId)}/profile?format=${f}&${query}`, download: '', class: `download-${f}`, onclick: downloadWithToken }, f)]));
      drawFlame(page);
      // For the page benchmark (benchmarks/README.md): when the first look is on screen (the frame after it was drawn
      // has been painted), on the page's own clock.
      if (firstLook) requestAnimationFrame(() => setTimeout(() => performance.mark('flamewright:first-look')));
    } catch (err) { showError(err.message); }
  }
  if (finished.length) await load(firstLook);
  else container.replaceChildren(el('p', { class: 'muted' }, 'No instance has uploaded a profile yet.'));
}

// Each frame's name is sent once, in names; frames point at it by nameIndex.
const VIEW_FIELDS = 'sampleType { type unit } total span minTotal ancestors { node name total } names frames { node parent nameIndex total self matched } narrower { parent count total } matchedTotal';
const TOP_FIELDS = 'rowCount rows { name flat flatPercent cum cumPercent }';

function graphWidth(container) { return Math.max(1, Math.floor(container.clientWidth || 1000)); }
const percent = (v, of) => `${(of ? 100 * v / of : 0).toFixed(2)}%`;
const share = (v, of) => (of ? percent(v, of) : '—');

// A view (frames in pre-order, each naming its parent's position) → nodes with children; each narrower block becomes
// one "N small frames" child after its parent's drawn children. The zoom root's ancestors come apart, for the trail.
function viewLayout(view, request, zoomPath, search, narrowerThan = null) {
  const nodes = view.frames.map(f => ({ id: String(f.node), codeSignature: view.names[f.nameIndex], total: f.total, self: f.self, matched: f.matched, children: [] }));
  view.frames.forEach((f, i) => { if (f.parent >= 0) { nodes[i].parent = nodes[f.parent]; nodes[f.parent].children.push(nodes[i]); } });
  for (const n of view.narrower) {
    const parent = nodes[n.parent];
    parent.children.push({ id: `${parent.id}~small`, codeSignature: `${n.count} small frames`, total: n.total, self: 0, children: [], tiny: true, parent });
  }
  const ancestors = view.ancestors.slice(0, -1).map(a => ({ id: String(a.node), codeSignature: a.name, total: a.total, self: 0, children: [] }));
  const root = ancestors.length ? ancestors[0] : nodes[0];
  return { view: true, request, zoomPath, search, narrowerThan, span: view.span, minTotal: view.minTotal, root, zoom: nodes[0], ancestors,
    matchedTotal: view.matchedTotal, unit: view.sampleType?.unit, type: view.sampleType?.type };
}

// Pre-order elements → nodes with children, so that any node can be the zoomed root (a diff holds its whole tree).
function layout(elements, sampleType) {
  const nodes = new Map();
  for (const e of elements) nodes.set(e.id, { ...e, children: [] });
  for (const n of nodes.values()) if (n.parentId !== '-1') { n.parent = nodes.get(n.parentId); n.parent?.children.push(n); }
  return { root: nodes.get('0'), zoom: nodes.get('0'), unit: sampleType?.unit, type: sampleType?.type, nodes };
}

// The zoom path of a node of the view: the zoom root's path, then the names below it.
function pathOf(state, node) {
  const below = [];
  for (let n = node; n && n !== state.zoom; n = n.parent) below.unshift(n.codeSignature);
  return [...state.zoomPath, ...below];
}

// Asks for the view at target: a zoom path, and narrowerThan to show only a block of narrower frames under it.
async function reloadView(page, target = { path: page.state.zoomPath, narrowerThan: page.state.narrowerThan }) {
  const { state, search, matched } = page;
  try {
    const data = await gql(`query ($r: PprofAnalyzationRequest!, $z: [String!], $w: Int!, $search: String, $n: Long) {
      queryPprofFlameView(request: $r, zoom: $z, width: $w, search: $search, narrowerThan: $n) { ${VIEW_FIELDS} } }`,
    { r: state.request, z: target.path, w: page.flame.width, search: search.value || null, n: target.narrowerThan });
    page.state = Object.assign(viewLayout(data.queryPprofFlameView, state.request, target.path, search.value, target.narrowerThan),
      { flame: state.flame, topRows: state.topRows, sortKey: state.sortKey, sortAscending: state.sortAscending, selected: state.selected });
    clearError();
    drawFlame(page);
  } catch (err) {
    if (search.value && err.message.startsWith('search:')) matched.textContent = err.message;
    else showError(err.message);
  }
}

// The zoomed node's ancestors, drawn above it at full width: sent with a view, found in a diff's whole tree.
function ancestorsOf(state) {
  if (state.view) return state.ancestors;
  const ancestors = [];
  for (let n = state.zoom.parent; n; n = n.parent) ancestors.unshift(n);
  return ancestors;
}

function drawFlame(page) {
  const { state, trail, search, matched } = page;
  const ancestors = ancestorsOf(state);
  let regex = null;
  if (!state.view && search.value) {
    try { regex = new RegExp(search.value); } catch { matched.textContent = 'not a regular expression'; }
  }
  const rootShare = n => (state.root.total ? 100 * n.total / state.root.total : 0);
  page.flame.draw({
    zoom: state.zoom,
    ancestors,
    span: state.view && state.span ? state.span : state.zoom.total,
    flame: state.flame,
    selected: state.selected || null,
    // The server marked a view's matching frames; a diff's tree is matched here.
    match: state.view ? (search.value ? n => !!n.matched : null) : (regex ? n => regex.test(n.codeSignature) : null),
    diff: state.diff ? n => rootShare(n) - (state.baseRoot ? 100 * (n.base || 0) / state.baseRoot : 0) : null,
  });
  const narrowed = state.view && state.narrowerThan != null;
  trail.replaceChildren(...[...ancestors, state.zoom].flatMap((n, i) => [i ? ' › ' : '',
    n === state.zoom && !narrowed ? el('span', {}, n.codeSignature) : el('a', { href: '#', 'data-id': n.id, onclick: e => {
      e.preventDefault();
      zoomTo(page, i);
    } }, n.codeSignature)]), ...(narrowed ? [' › ', el('span', {}, 'narrower frames')] : []));
  if (state.view) {
    matched.textContent = search.value && state.matchedTotal != null ? `matched ${percent(state.matchedTotal, state.zoom.total)} of the zoomed frame` : '';
  } else if (regex || !search.value) {
    matched.textContent = regex ? `matched ${percent(matchedTotal(state.zoom, regex), state.zoom.total)} of the zoomed frame` : '';
  }
  drawTop(page);
}

// The samples under node in frames matching regex; a match's share counts once even when matching frames nest
// (recursion, or a match above another).
function matchedTotal(node, regex) {
  let total = 0;
  const count = (n, inside) => {
    const hit = regex.test(n.codeSignature);
    if (hit && !inside) total += n.total;
    for (const c of n.children) count(c, inside || hit);
  };
  count(node, false);
  return total;
}

// Zooms to the i-th step of the trail (the ancestors, then the zoomed frame when a block of narrower frames is shown).
function zoomTo(page, i) {
  const { state } = page;
  if (state.view) reloadView(page, { path: state.zoomPath.slice(0, i), narrowerThan: null });
  else { state.zoom = ancestorsOf(state)[i] || state.zoom; drawFlame(page); }
}

// Escape: one step back along the trail.
function zoomOut(page) {
  const { state } = page;
  if (state.view && state.narrowerThan != null) zoomTo(page, state.ancestors.length);
  else if (ancestorsOf(state).length) zoomTo(page, ancestorsOf(state).length - 1);
}

// Zooms into a drawn frame: in a view, asks the server for it (a frame, a block of narrower frames, whose parent is
// zoomed to draw them, or an ancestor on the trail); in a diff, which holds its whole tree, redraws under it.
function zoomInto(page, f) {
  const { state } = page;
  if (f.kind === 'ancestor') zoomTo(page, ancestorsOf(state).indexOf(f.node));
  else if (state.view) {
    reloadView(page, f.kind === 'tiny' ? { path: pathOf(state, f.node.parent), narrowerThan: state.minTotal } : { path: pathOf(state, f.node), narrowerThan: null });
  } else if (f.kind !== 'tiny') { state.zoom = f.node; drawFlame(page); }
}

function showTip(page, node, x, y) {
  const { state, tip } = page;
  tip.replaceChildren(el('strong', {}, node.codeSignature),
    el('div', {}, `total ${formatValue(node.total, state.unit)} (${share(node.total, state.root.total)} of all, ${share(node.total, state.zoom.total)} of zoomed)`),
    el('div', {}, `self ${formatValue(node.self, state.unit)}`),
    state.diff ? el('div', {}, `base ${formatValue(node.base || 0, state.unit)} (${share(node.base || 0, state.baseRoot)} of the base)`) : '');
  tip.style.left = `${Math.min(x + 12, document.documentElement.scrollWidth - 360)}px`;
  tip.style.top = `${y + 12}px`;
  tip.hidden = false;
}

// The top table is sorted and paged on the server: a click on a column asks for the first rows in that order.
const SORT_ORDER = { name: 'NAME', flat: 'FLAT', flatPercent: 'FLAT', cum: 'CUM', cumPercent: 'CUM' };
// Rows of the top table drawn at once: enough to read, few enough that a 100k-function profile stays fast.
const TOP_ROWS = 300;

function drawTop(page) {
  const { state, top } = page;
  const columns = [['name', 'Function'], ['flat', 'Flat'], ['flatPercent', 'Flat %'], ['cum', 'Cum'], ['cumPercent', 'Cum %']];
  const rows = state.topRows || { rows: [], rowCount: 0 };
  const resort = async key => {
    const ascending = state.sortKey === key ? !state.sortAscending : false;
    try {
      const data = await gql(`query ($r: PprofAnalyzationRequest!, $by: PprofTopOrder, $asc: Boolean) {
        queryPprofTop(request: $r, limit: ${TOP_ROWS}, orderBy: $by, ascending: $asc) { ${TOP_FIELDS} } }`,
      { r: state.request, by: SORT_ORDER[key], asc: key === 'name' ? !ascending : ascending });
      Object.assign(page.state, { sortKey: key, sortAscending: ascending, topRows: data.queryPprofTop });
      drawTop(page);
    } catch (err) { showError(err.message); }
  };
  // A row marks its function wherever it is drawn in the graph. Rows are plain elements: the table's own listeners
  // find the row's function through its index.
  const select = e => {
    const row = e.target.closest && e.target.closest('tr[data-row]');
    if (!row || (e.type === 'keydown' && e.key !== 'Enter')) return;
    page.state.selected = rows.rows[Number(row.dataset.row)].name;
    drawFlame(page);
  };
  const body = document.createElement('tbody');
  rows.rows.forEach((r, i) => {
    const tr = document.createElement('tr');
    tr.tabIndex = 0;
    tr.dataset.row = i;
    if (r.name === state.selected) tr.className = 'selected';
    for (const text of [r.name, formatValue(r.flat, state.unit), `${r.flatPercent.toFixed(2)}%`, formatValue(r.cum, state.unit), `${r.cumPercent.toFixed(2)}%`]) {
      const td = document.createElement('td');
      td.textContent = text;
      tr.appendChild(td);
    }
    body.appendChild(tr);
  });
  body.addEventListener('click', select);
  body.addEventListener('keydown', select);
  top.replaceChildren(
    el('thead', {}, el('tr', {}, columns.map(([key, label]) => el('th', {},
      el('button', { type: 'button', class: 'sort', 'data-key': key, 'aria-sort': state.sortKey === key ? (state.sortAscending ? 'ascending' : 'descending') : 'none',
        onclick: () => resort(key) }, label))))),
    rows.rowCount > rows.rows.length ? el('caption', { class: 'muted' }, `the first ${rows.rows.length} of ${rows.rowCount} functions, in this order`) : [],
    body);
}

async function route(refreshing = false) {
  clearTimeout(refreshTimer);
  if (!refreshing) clearError();
  view.classList.remove('wide');
  const hash = decodeURIComponent(location.hash.slice(1) || '/');
  try {
    if (hash.startsWith('/services/')) await serviceView(hash.slice('/services/'.length));
    else if (hash.startsWith('/tasks/')) await taskView(hash.slice('/tasks/'.length));
    else if (hash.startsWith('/analysis/')) await analysisView(hash.slice('/analysis/'.length));
    else await servicesView();
    if (refreshing) clearError();
  } catch (e) {
    if (e instanceof TokenNeeded) { tokenView(e.message); return; }
    showError(e.message);
    if (!refreshing) render(el('p', { class: 'muted' }, 'This page could not be shown.'));
  }
}

window.addEventListener('hashchange', () => { route(); view.focus(); });
showForget();
route();
