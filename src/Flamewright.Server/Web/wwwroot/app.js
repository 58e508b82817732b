// Flamewright's web UI: services and instances, a service's tasks with the New task form, and a task's live
// progress. Every name shown comes from agents and is untrusted: text goes in through textContent only.

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

// Colours stable per package: the same package always gets the same hue.
function colourOf(name) {
  const pkg = name.replace(/\(.*$/, '').replace(/\.[^./]*$/, '') || name;
  let h = 0;
  for (const c of pkg) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return `hsl(${20 + (h % 40)}, ${60 + (h % 25)}%, ${58 + (h % 12)}%)`;
}

async function analysisView(taskId) {
  const serviceId = taskId.slice(taskId.indexOf('_') + 1);
  setCrumbs(el('a', { href: '#/' }, 'Services'), el('a', { href: `#/services/${encodeURIComponent(serviceId)}` }, 'Service'),
    el('a', { href: `#/tasks/${encodeURIComponent(taskId)}` }, 'Task'), el('span', {}, 'Flame graph'));
  // One round trip: the task, its sample types, the service's tasks, and the default view (every instance that
  // uploaded, the event's sample type, functions) with its top table, which the form below starts out selecting.
  const firstRequest = { taskId, instanceIds: [], sampleType: null, granularity: 'FUNCTION', focus: null, ignore: null };
  const answer = await gqlAnswer(`query ($id: String!, $tid: ID!, $l: PprofTaskListRequest!, $r: PprofAnalyzationRequest!, $w: Int!) {
    queryPprofTaskProgress(taskId: $id) { instances { instanceId instanceName state } }
    queryPprofSampleTypes(taskId: $tid) { index type unit isDefault }
    queryPprofTaskList(request: $l) { tasks { id events createTime } }
    view: queryPprofFlameView(request: $r, zoom: [], width: $w) { ${VIEW_FIELDS} }
    top: queryPprofTop(request: $r, limit: ${TOP_ROWS}) { ${TOP_FIELDS} } }`,
  { id: taskId, tid: taskId, l: { serviceId, limit: 50 }, r: firstRequest, w: graphWidth(document.getElementById('view')) });
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
  const graph = el('div', { id: 'flame', role: 'tree' });
  const tip = el('div', { id: 'tooltip', hidden: true });
  const top = el('table', { id: 'top' });
  const downloads = el('p', { id: 'downloads' });
  const omitted = el('p', { class: 'muted', id: 'omitted', hidden: true });
  const form = el('form', { id: 'analysis-form', class: 'controls' },
    el('fieldset', {}, el('legend', {}, 'Instances'), boxes), sampleType, granularity, focus, ignore, compare, el('button', { type: 'submit' }, 'Show'));
  render(el('h1', {}, 'Flame graph'), form, el('div', { class: 'controls' }, search, matched, orientation), legend, trail, graph, tip, omitted, downloads, el('h2', {}, 'Top functions'), top);
  compare.addEventListener('change', () => load());

  let state = null;
  const draw = () => drawFlame(state, graph, trail, tip, search, matched, top);
  frameEvents(() => state, graph, trail, tip, search, matched, top);
  let searchTimer = 0;
  search.addEventListener('input', () => {
    if (!state) return;
    if (!state.view) { highlight(state, graph, search.value, matched); return; }
    // The server matches the pattern over the whole zoomed frame, narrow frames included: asked once typing pauses.
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => reloadView(state, graph, trail, tip, search, matched, top), 200);
  });
  orientation.addEventListener('change', () => { if (state) { state.flame = orientation.value === 'flame'; draw(); } });
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
        queryPprofTop(request: $r, limit: ${TOP_ROWS}) { ${TOP_FIELDS} } }`, { r: request, w: graphWidth(graph), search: search.value || null });
      clearError();
      state = viewLayout(data.queryPprofFlameView, request, [], search.value);
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
      const left = compare.value ? diffOmitted : 0;
      omitted.hidden = !left;
      omitted.textContent = left ? `${left.toLocaleString()} lighter frames are not drawn (the server sends the heaviest only); the downloads below hold every frame.` : '';
      state.flame = orientation.value === 'flame';
      const query = new URLSearchParams({ instances: request.instanceIds.join(','), sampleType: request.sampleType || '', granularity: request.granularity.toLowerCase() });
      downloads.replaceChildren('Download: ', ...['pprof', 'folded', 'svg', 'speedscope'].flatMap((f, i) => [i ? ' · ' : '',
        el('a', { href: `/api/tasks/${encodeURIComponent(taskId)}/profile?format=${f}&${query}`, download: '', class: `download-${f}`, onclick: downloadWithToken }, f)]));
      draw();
      // For the page benchmark (benchmarks/README.md): when the first look is on screen (the frame after it was drawn
      // has been painted), on the page's own clock.
      if (firstLook) requestAnimationFrame(() => setTimeout(() => performance.mark('flamewright:first-look')));
    } catch (err) { showError(err.message); }
  }
  if (finished.length) await load(firstLook);
  else graph.replaceChildren(el('p', { class: 'muted' }, 'No instance has uploaded a profile yet.'));
}

// Each frame's name is sent once, in names; frames point at it by nameIndex.
const VIEW_FIELDS = 'sampleType { type unit } total span minTotal ancestors { node name total } names frames { node parent nameIndex total self matched } narrower { parent count total } matchedTotal';
const TOP_FIELDS = 'rowCount rows { name flat flatPercent cum cumPercent }';

function graphWidth(graph) { return Math.max(1, Math.round(graph.clientWidth || 1000)); }

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

// The zoom path of a node of the view: the zoom root's path, then the names below it.
function pathOf(state, node) {
  const below = [];
  for (let n = node; n && n !== state.zoom; n = n.parent) below.unshift(n.codeSignature);
  return [...state.zoomPath, ...below];
}

// Asks for the view at target: a zoom path, and narrowerThan to show only a block of narrower frames under it.
async function reloadView(state, graph, trail, tip, search, matched, top, target = { path: state.zoomPath, narrowerThan: state.narrowerThan }) {
  try {
    const data = await gql(`query ($r: PprofAnalyzationRequest!, $z: [String!], $w: Int!, $search: String, $n: Long) {
      queryPprofFlameView(request: $r, zoom: $z, width: $w, search: $search, narrowerThan: $n) { ${VIEW_FIELDS} } }`,
    { r: state.request, z: target.path, w: graphWidth(graph), search: search.value || null, n: target.narrowerThan });
    Object.assign(state, viewLayout(data.queryPprofFlameView, state.request, target.path, search.value, target.narrowerThan),
      { flame: state.flame, topRows: state.topRows });
    clearError();
    drawFlame(state, graph, trail, tip, search, matched, top);
  } catch (err) {
    if (search.value && err.message.startsWith('search:')) matched.textContent = err.message;
    else showError(err.message);
  }
}

// Pre-order elements → nodes with children, so that any node can be the zoomed root.
function layout(elements, sampleType) {
  const nodes = new Map();
  for (const e of elements) nodes.set(e.id, { ...e, children: [] });
  for (const n of nodes.values()) if (n.parentId !== '-1') nodes.get(n.parentId)?.children.push(n);
  return { root: nodes.get('0'), zoom: nodes.get('0'), unit: sampleType?.unit, type: sampleType?.type, nodes };
}

const ROW = 18;
// Rows of the top table drawn at once: enough to read, few enough that a 100k-function profile stays fast.
const TOP_ROWS = 300;
const MIN_PX = 0.5;

function drawFlame(state, graph, trail, tip, search, matched, top) {
  const zoom = state.zoom;
  const width = graph.clientWidth || 1000;
  const frames = [];
  // Frames narrower than MIN_PX are not drawn one by one: each parent's are drawn as one labelled frame.
  const walk = (node, x, depth, scale) => {
    // The zoomed frame spans the width even when the view shows only a block of its narrower children.
    const w = node === zoom ? width : node.total * scale;
    frames.push({ node, x, w, depth });
    let cx = x;
    let tinyTotal = 0;
    let tinyCount = 0;
    for (const c of node.children) {
      if (c.tiny) {
        if (c.total * scale >= MIN_PX) frames.push({ node: c, x: cx, w: c.total * scale, depth: depth + 1, tiny: true });
        cx += c.total * scale;
        continue;
      }
      if (c.total * scale < MIN_PX) { tinyTotal += c.total; tinyCount++; continue; }
      walk(c, cx, depth + 1, scale);
      cx += c.total * scale;
    }
    if (tinyCount && tinyTotal * scale >= MIN_PX) {
      const tiny = { id: `${node.id}~small`, parentId: node.id, codeSignature: `${tinyCount} small frames`, total: tinyTotal, self: 0, children: [] };
      frames.push({ node: tiny, x: cx, w: tinyTotal * scale, depth: depth + 1, tiny: true });
    }
  };
  // The zoomed node spans the full width; its ancestors are drawn above it, full width too.
  const ancestors = state.view ? state.ancestors : [];
  if (!state.view) for (let n = zoom; n && n.parentId !== '-1'; n = state.nodes.get(n.parentId)) ancestors.unshift(state.nodes.get(n.parentId));
  ancestors.forEach((a, i) => frames.push({ node: a, x: 0, w: width, depth: i, ancestor: true }));
  const span = state.view && state.span ? state.span : zoom.total;
  if (span > 0) walk(zoom, 0, ancestors.length, width / span);
  else frames.push({ node: zoom, x: 0, w: width, depth: ancestors.length });
  const depth = Math.max(...frames.map(f => f.depth)) + 1;
  graph.style.height = `${depth * ROW}px`;
  // Built as plain elements, without a listener each: the graph's own listeners (frameEvents) find the frame under
  // the pointer through its data-index. A graph of a few thousand frames is drawn in a few tens of milliseconds.
  const boxes = document.createDocumentFragment();
  frames.forEach((f, i) => {
    const share = state.root.total ? (100 * f.node.total / state.root.total).toFixed(2) : '0.00';
    const box = document.createElement('div');
    box.className = `frame${f.ancestor ? ' ancestor' : ''}${f.tiny ? ' tiny' : ''}`;
    box.tabIndex = 0;
    box.setAttribute('role', 'treeitem');
    box.setAttribute('aria-label', `${f.node.codeSignature}, ${share}%`);
    box.dataset.id = f.node.id;
    box.dataset.name = f.node.codeSignature;
    box.dataset.index = i;
    if (f.w > 30) box.textContent = f.node.codeSignature;
    const background = f.node.id === '0' ? '#e5e7eb' : f.tiny ? '#d1d5db' : colourOf(f.node.codeSignature);
    box.style.cssText = `left:${f.x}px;width:${Math.max(f.w, MIN_PX)}px;top:${(state.flame ? depth - 1 - f.depth : f.depth) * ROW}px;background:${background}`;
    if (state.diff && !f.tiny && f.node.id !== '0') {
      const change = (state.root.total ? 100 * f.node.total / state.root.total : 0) - (state.baseRoot ? 100 * (f.node.base || 0) / state.baseRoot : 0);
      const kind = change > 0.1 ? 'grew' : change < -0.1 ? 'shrank' : 'same';
      box.classList.add(kind);
      const strength = Math.min(1, Math.abs(change) / 10);
      box.style.background = kind === 'grew' ? `rgba(220, 38, 38, ${0.25 + 0.75 * strength})` : kind === 'shrank' ? `rgba(37, 99, 235, ${0.25 + 0.75 * strength})` : '#e5e7eb';
    }
    boxes.appendChild(box);
  });
  state.drawn = frames;
  state.drawnAncestors = ancestors;
  graph.replaceChildren(boxes);
  const narrowed = state.view && state.narrowerThan != null;
  trail.replaceChildren(...[...ancestors, zoom].flatMap((n, i) => [i ? ' › ' : '',
    n === zoom && !narrowed ? el('span', {}, n.codeSignature) : el('a', { href: '#', 'data-id': n.id, onclick: e => {
      e.preventDefault();
      if (state.view) reloadView(state, graph, trail, tip, search, matched, top, { path: state.zoomPath.slice(0, i), narrowerThan: null });
      else { state.zoom = n; drawFlame(state, graph, trail, tip, search, matched, top); }
    } }, n.codeSignature)]), ...(narrowed ? [' › ', el('span', {}, 'narrower frames')] : []));
  if (state.view) showMatches(state, graph, search.value, matched);
  else highlight(state, graph, search.value, matched);
  drawTop(state, top, graph);
}

// Zooms into a drawn frame: in a view, asks the server for it (a frame, a block of narrower frames, whose parent is
// zoomed to draw them, or an ancestor on the trail); in a diff, which holds its whole tree, redraws under it.
function zoomInto(state, f, graph, trail, tip, search, matched, top) {
  if (state.view) {
    const target = f.ancestor ? { path: state.zoomPath.slice(0, state.drawnAncestors.indexOf(f.node)), narrowerThan: null }
      : f.tiny ? { path: pathOf(state, f.node.parent), narrowerThan: state.minTotal }
        : { path: pathOf(state, f.node), narrowerThan: null };
    reloadView(state, graph, trail, tip, search, matched, top, target);
  } else if (!f.tiny) { state.zoom = f.node; drawFlame(state, graph, trail, tip, search, matched, top); }
}

// The graph's listeners, once for all its frames: currentState gives the state the frames were drawn from.
function frameEvents(currentState, graph, trail, tip, search, matched, top) {
  const frameOf = e => {
    const box = e.target.closest && e.target.closest('.frame');
    const state = currentState();
    return box && state && state.drawn ? state.drawn[Number(box.dataset.index)] : null;
  };
  graph.addEventListener('click', e => { const f = frameOf(e); if (f) zoomInto(currentState(), f, graph, trail, tip, search, matched, top); });
  graph.addEventListener('keydown', e => { const f = e.key === 'Enter' && frameOf(e); if (f) zoomInto(currentState(), f, graph, trail, tip, search, matched, top); });
  graph.addEventListener('mousemove', e => { const f = frameOf(e); if (f) showTip(currentState(), tip, f.node, e); else tip.hidden = true; });
  graph.addEventListener('mouseleave', () => { tip.hidden = true; });
}

function showTip(state, tip, node, e) {
  const pct = (v, of) => (of ? `${(100 * v / of).toFixed(2)}%` : '—');
  tip.replaceChildren(el('strong', {}, node.codeSignature),
    el('div', {}, `total ${formatValue(node.total, state.unit)} (${pct(node.total, state.root.total)} of all, ${pct(node.total, state.zoom.total)} of zoomed)`),
    el('div', {}, `self ${formatValue(node.self, state.unit)}`),
    state.diff ? el('div', {}, `base ${formatValue(node.base || 0, state.unit)} (${pct(node.base || 0, state.baseRoot)} of the base)`) : '');
  tip.style.left = `${e.pageX + 12}px`;
  tip.style.top = `${e.pageY + 12}px`;
  tip.hidden = false;
}

// The server marked the matching frames and summed their samples under the zoomed frame, narrow ones included.
function showMatches(state, graph, pattern, matched) {
  const ids = new Set();
  const mark = node => { if (node.matched) ids.add(node.id); node.children.forEach(mark); };
  if (pattern) mark(state.zoom);
  for (const box of graph.children) box.classList.toggle('match', ids.has(box.dataset.id));
  matched.textContent = pattern && state.matchedTotal != null
    ? `matched ${state.zoom.total ? (100 * state.matchedTotal / state.zoom.total).toFixed(2) : '0.00'}% of the zoomed frame` : '';
}

function highlight(state, graph, pattern, matched) {
  let regex = null;
  try { regex = pattern ? new RegExp(pattern) : null; } catch { matched.textContent = 'not a regular expression'; return; }
  let total = 0;
  // A match's share counts once even when matching frames nest (recursion, or a match above another).
  const count = (node, inside) => {
    const hit = regex && regex.test(node.codeSignature);
    if (hit && !inside) total += node.total;
    for (const c of node.children) count(c, inside || hit);
  };
  if (regex) count(state.zoom, false);
  for (const box of graph.children) box.classList.toggle('match', !!regex && regex.test(box.dataset.name));
  matched.textContent = regex ? `matched ${state.zoom.total ? (100 * total / state.zoom.total).toFixed(2) : '0.00'}% of the zoomed frame` : '';
}

// The top table is sorted and paged on the server: a click on a column asks for the first rows in that order.
const SORT_ORDER = { name: 'NAME', flat: 'FLAT', flatPercent: 'FLAT', cum: 'CUM', cumPercent: 'CUM' };

function drawTop(state, top, graph) {
  const columns = [['name', 'Function'], ['flat', 'Flat'], ['flatPercent', 'Flat %'], ['cum', 'Cum'], ['cumPercent', 'Cum %']];
  const page = state.topRows || { rows: [], rowCount: 0 };
  const resort = async key => {
    const ascending = state.sortKey === key ? !state.sortAscending : false;
    try {
      const data = await gql(`query ($r: PprofAnalyzationRequest!, $by: PprofTopOrder, $asc: Boolean) {
        queryPprofTop(request: $r, limit: ${TOP_ROWS}, orderBy: $by, ascending: $asc) { ${TOP_FIELDS} } }`,
      { r: state.request, by: SORT_ORDER[key], asc: key === 'name' ? !ascending : ascending });
      Object.assign(state, { sortKey: key, sortAscending: ascending, topRows: data.queryPprofTop });
      drawTop(state, top, graph);
    } catch (err) { showError(err.message); }
  };
  top.replaceChildren(
    el('thead', {}, el('tr', {}, columns.map(([key, label]) => el('th', {},
      el('button', { type: 'button', class: 'sort', 'data-key': key, 'aria-sort': state.sortKey === key ? (state.sortAscending ? 'ascending' : 'descending') : 'none',
        onclick: () => resort(key) }, label))))),
    page.rowCount > page.rows.length ? el('caption', { class: 'muted' }, `the first ${page.rows.length} of ${page.rowCount} functions, in this order`) : [],
    el('tbody', {}, page.rows.map(r => el('tr', { tabindex: 0, onclick: () => selectFunction(graph, r.name), onkeydown: e => { if (e.key === 'Enter') selectFunction(graph, r.name); } },
      el('td', {}, r.name), el('td', {}, formatValue(r.flat, state.unit)), el('td', {}, `${r.flatPercent.toFixed(2)}%`),
      el('td', {}, formatValue(r.cum, state.unit)), el('td', {}, `${r.cumPercent.toFixed(2)}%`)))));
}

function selectFunction(graph, name) {
  for (const box of graph.children) box.classList.toggle('selected', box.dataset.name === name);
}

async function route(refreshing = false) {
  clearTimeout(refreshTimer);
  if (!refreshing) clearError();
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
