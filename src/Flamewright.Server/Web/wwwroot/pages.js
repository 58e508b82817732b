// The pages around the flame graph: services, a service with its New task form and tasks, a task's live progress,
// and the API token's form.

import { gql, accessLevel, lastMinutes, storedToken, TOKEN_KEY } from './api.js';
import { el, render, setCrumbs, time } from './dom.js';

const EVENTS = ['CPU', 'HEAP', 'ALLOCS', 'GOROUTINE', 'THREADCREATE', 'BLOCK', 'MUTEX'];
const TIMED = new Set(['CPU', 'BLOCK', 'MUTEX']);

// Asks for the API token; onToken runs once one is stored.
export function tokenView(reason, onToken) {
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
    onToken();
  });
  render(el('h1', {}, 'API token'), el('p', { id: 'token-reason' }, reason,
    ' Ask the server\'s operator for one (its ApiToken, or ReadOnlyApiToken to look without creating tasks).'), form);
  input.focus();
}

// "Forget token" in the header while a token is stored.
export function showForget() {
  document.getElementById('forget-token')?.remove();
  if (!storedToken()) return;
  const forget = el('a', { href: '#/', id: 'forget-token', onclick: () => { localStorage.removeItem(TOKEN_KEY); showForget(); } }, 'Forget token');
  document.querySelector('header').append(forget);
}

export async function servicesView() {
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

export async function serviceView(serviceId) {
  const { getService: service } = await gql('query ($id: String!) { getService(serviceId: $id) { id name } }', { id: serviceId });
  if (!service) throw new Error(`unknown service ${serviceId}`);
  setCrumbs(el('a', { href: '#/' }, 'Services'), el('span', {}, service.name));
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
  render(el('h1', {}, service.name), el('h2', {}, 'Instances seen in the last hour'), instanceTable, form,
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

// A task's progress; answers true while it runs, so that the router shows it again after a while.
export async function taskView(taskId) {
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
  return !done;
}
