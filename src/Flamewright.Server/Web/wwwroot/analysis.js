// The analysis page: the selection form, the flame graph (painted by flame.js from the views the server cuts for its
// width), zoom, search, diff, the top table and the downloads.

import { FlameGraph, packageOf, lineOf } from './flame.js';
import { gql, answerOf, downloadWithToken } from './api.js';
import { VIEW_FIELDS, TOP_FIELDS, TOP_ROWS, fromAddress, firstGraphWidth, requestOf, firstLookBody, postGraphQL, takeFirstLook } from './firstlook.js';
import { el, view, render, setCrumbs, showError, clearError, time } from './dom.js';
import { formatValue } from './format.js';

export async function analysisView(taskId, params = new URLSearchParams()) {
  const serviceId = taskId.slice(taskId.indexOf('_') + 1);
  setCrumbs(el('a', { href: '#/' }, 'Services'), el('a', { href: `#/services/${encodeURIComponent(serviceId)}` }, 'Service'),
    el('a', { href: `#/tasks/${encodeURIComponent(taskId)}` }, 'Task'), el('span', {}, 'Flame graph'));
  // The graph takes the window's whole width: the page leaves its reading width while it shows one.
  view.classList.add('wide');
  // One round trip (firstlook.js): taken as already sent when the page opened on this address.
  const wanted = fromAddress(params);
  const firstRequest = requestOf(taskId, wanted);
  const body = firstLookBody(taskId, wanted, firstGraphWidth());
  const answer = await answerOf(takeFirstLook(body) ?? postGraphQL(body));
  // The view may fail on its own (nothing uploaded yet): then the form's first Show asks again and says why.
  const failed = (answer.errors || []).find(e => !['view', 'top'].includes((e.path || [])[0]));
  if (failed || !answer.data) throw new Error(failed ? failed.message : 'the server sent no data');
  const { queryPprofTaskProgress: progress, queryPprofSampleTypes: types, queryPprofTaskList: others } = answer.data;
  const firstLook = answer.data.view && answer.data.top ? { queryPprofFlameView: answer.data.view, queryPprofTop: answer.data.top } : null;
  const finished = progress.instances.filter(i => i.state === 'FINISHED');
  const boxes = finished.map(i => el('label', {}, el('input', { type: 'checkbox', name: 'instance', value: i.instanceId,
    checked: !wanted.instanceIds.length || wanted.instanceIds.includes(i.instanceId) }), ` ${i.instanceName}`));
  const defaultType = types.find(t => t.isDefault)?.type || null;
  const chosenType = types.some(t => t.type === wanted.sampleType) ? wanted.sampleType : defaultType;
  const sampleType = el('select', { id: 'sample-type' }, types.map(t => el('option', { value: t.type, selected: t.type === chosenType }, `${t.type} (${t.unit})`)));
  const granularity = el('select', { id: 'granularity' }, el('option', { value: 'FUNCTION' }, 'function'), el('option', { value: 'LINE', selected: wanted.granularity === 'LINE' }, 'line'));
  const compare = el('select', { id: 'compare', 'aria-label': 'Compare with' }, el('option', { value: '' }, 'no comparison'),
    finished.length > 1 ? finished.map(i => el('option', { value: `${taskId}|${i.instanceId}` }, `diff against this task's ${i.instanceName}`)) : [],
    (others.tasks || []).filter(t => t.id !== taskId).map(t => el('option', { value: t.id }, `diff against ${t.events} of ${time(t.createTime)}`)));
  // A diff compares shares (each side's values over its own total: two profiles of different lengths compare) or
  // values (the change in points of the larger side's total: what grew in absolute terms).
  const diffMode = el('select', { id: 'diff-mode', 'aria-label': 'Compare by' },
    el('option', { value: 'share' }, 'by share of each total'), el('option', { value: 'value', selected: wanted.byValue }, 'by value'));
  const grewText = el('span', {}, '');
  const shrankText = el('span', {}, '');
  const legend = el('p', { id: 'legend', hidden: true }, diffMode, ' ', el('span', { class: 'swatch grew' }, ' '), ' ', grewText, '  ',
    el('span', { class: 'swatch shrank' }, ' '), ' ', shrankText, '  ', el('span', { class: 'swatch same' }, ' '), ' about the same (±0.1 points)');
  const changes = el('section', { id: 'changes', hidden: true });
  const orientation = el('select', { id: 'orientation', 'aria-label': 'Orientation' }, el('option', { value: 'icicle' }, 'icicle (root on top)'), el('option', { value: 'flame' }, 'flame (root at the bottom)'));
  const focus = el('input', { id: 'focus', placeholder: 'focus regex', 'aria-label': 'Focus: frames to keep (regex)', value: wanted.focus || '' });
  const ignore = el('input', { id: 'ignore', placeholder: 'ignore regex', 'aria-label': 'Ignore: frames to drop (regex)', value: wanted.ignore || '' });
  // Label filters and the split, with go tool pprof's -tagfocus, -tagignore and -tagroot meaning (docs/ui.md).
  const tagFocus = el('input', { id: 'tag-focus', placeholder: 'only labels: tenant=acme', value: wanted.tagFocus || '',
    'aria-label': 'Only samples with these labels', title: 'key=regex, regex (against key:value), or a range such as bytes=64kb:' });
  const tagIgnore = el('input', { id: 'tag-ignore', placeholder: 'without labels: job=batch', value: wanted.tagIgnore || '',
    'aria-label': 'Without samples with these labels', title: 'written as the label filter' });
  const tagSplit = el('input', { id: 'tag-split', placeholder: 'split by label key', value: wanted.tagSplit || '',
    'aria-label': 'Split the graph by this label key', title: 'one root frame per value of this label key' });
  const search = el('input', { id: 'search', type: 'search', placeholder: 'search (regex), Enter: its callers', value: wanted.search,
    'aria-label': 'Search frames by regex; Enter shows the callers and callees of the heaviest match' });
  if ([...compare.options].some(o => o.value === wanted.compare)) compare.value = wanted.compare;
  orientation.value = wanted.flame ? 'flame' : 'icicle';
  const matched = el('span', { id: 'matched', class: 'muted' });
  const trail = el('nav', { id: 'zoom-trail', 'aria-label': 'Zoom' });
  const container = el('div', { id: 'flame' });
  const tip = el('div', { id: 'tooltip', hidden: true });
  // Read out by screen readers as the keyboard moves between frames.
  const spoken = el('p', { id: 'frame-focus', class: 'visually-hidden', 'aria-live': 'polite' });
  const top = el('table', { id: 'top' });
  // Samples grouped by stack and labels: for a goroutine task the first thing shown ("N goroutines wait in X"), for
  // the others a section opened on demand under the top table.
  const goroutines = (types.find(t => t.isDefault)?.type || '') === 'goroutine';
  const groups = el('section', { id: 'stack-groups', 'aria-live': 'polite' });
  const stacks = el('details', { id: 'stacks' }, el('summary', {}, 'Heaviest stacks'), groups);
  // The labels the samples carry (pprof.Do's): asked for when opened, as building the table reads every sample.
  const labelList = el('section', { id: 'label-table', 'aria-live': 'polite' });
  const labels = el('details', { id: 'labels' }, el('summary', {}, 'Labels'), labelList);
  // The source lines that cost most, across the selection (go tool pprof -lines -top): asked for when opened.
  const lineList = el('section', { id: 'line-table', 'aria-live': 'polite' });
  const hotLines = el('details', { id: 'hot-lines' }, el('summary', {}, 'Hottest lines'), lineList);
  // A function's callers (drawn upside down, above it) and callees (below it): a right click or S on a frame, or a row
  // of the top table and the button it shows, opens it.
  const sandwichOpen = el('button', { type: 'button', id: 'sandwich-open', class: 'label-action', hidden: true });
  const sandwich = el('section', { id: 'sandwich', hidden: true });
  const downloads = el('p', { id: 'downloads' });
  const omitted = el('p', { class: 'muted', id: 'omitted', hidden: true });
  const form = el('form', { id: 'analysis-form', class: 'controls' },
    el('fieldset', {}, el('legend', {}, 'Instances'), boxes), sampleType, granularity, focus, ignore, tagFocus, tagIgnore, tagSplit, compare, el('button', { type: 'submit' }, 'Show'));
  render(el('h1', {}, 'Flame graph'), form, goroutines ? groups : [], el('div', { class: 'controls' }, search, matched, orientation, sandwichOpen), legend, trail, container, spoken, tip,
    omitted, sandwich, downloads, changes, el('h2', {}, 'Top functions'), top, hotLines, goroutines ? [] : stacks, labels);
  stacks.addEventListener('toggle', () => { if (stacks.open && page.state) showGroups(page, groups); });
  labels.addEventListener('toggle', () => { if (labels.open && page.state) showLabels(page, labelList); });
  hotLines.addEventListener('toggle', () => { if (hotLines.open && page.state) showHotLines(page, lineList); });


  const page = { state: null, trail, tip, search, matched, top, spoken, sandwich, sandwichOpen };
  // A label table's buttons fill the form's label fields and show the graph again.
  page.useLabel = (field, value) => {
    ({ focus: tagFocus, ignore: tagIgnore, split: tagSplit })[field].value = value;
    load();
  };
  let resizeTimer = 0;
  page.flame = new FlameGraph(container, {
    zoom: f => zoomInto(page, f),
    back: () => zoomOut(page),
    pick: f => openSandwich(page, f.node.codeSignature),
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
  // The picture shown is kept in the address (history.replaceState: no new history entry, no reload).
  page.remember = () => {
    const { state } = page;
    // Only while this page is the one shown: a late answer for a page left must not rewrite another page's address,
    // also while the page gone to is still loading (the address has changed, this page is still on screen).
    const shown = decodeURIComponent(location.hash.slice(1).split('?')[0]);
    if (!container.isConnected || shown !== `/analysis/${taskId}`) return;
    const kept = new URLSearchParams();
    const all = finished.map(i => i.instanceId);
    const chosen = state.request.instanceIds;
    if (chosen.length && !(chosen.length === all.length && all.every(id => chosen.includes(id)))) chosen.forEach(id => kept.append('instance', id));
    if (state.request.sampleType && state.request.sampleType !== defaultType) kept.set('type', state.request.sampleType);
    if (state.request.granularity === 'LINE') kept.set('granularity', 'line');
    if (state.request.focus) kept.set('focus', state.request.focus);
    if (state.request.ignore) kept.set('ignore', state.request.ignore);
    if (state.request.tagFocus) kept.set('tagfocus', state.request.tagFocus);
    if (state.request.tagIgnore) kept.set('tagignore', state.request.tagIgnore);
    if (state.request.tagSplit) kept.set('split', state.request.tagSplit);
    if (compare.value) kept.set('compare', compare.value);
    if (compare.value && diffMode.value === 'value') kept.set('diff', 'value');
    const zoom = zoomNames(state);
    if (zoom.length) kept.set('zoom', JSON.stringify(zoom));
    if (state.view && state.narrowerThan != null) kept.set('narrower', String(state.narrowerThan));
    if (search.value) kept.set('search', search.value);
    if (state.flame) kept.set('orientation', 'flame');
    if (page.sandwichOf) kept.set('sandwich', page.sandwichOf);
    const address = `#/analysis/${encodeURIComponent(taskId)}${kept.size ? `?${kept}` : ''}`;
    if (location.hash !== address) history.replaceState(null, '', address);
  };
  // For the browser tests: what is laid out, and which rows the canvas shows ({ top, canvasHeight } in CSS pixels).
  window.flamewright = {
    frames: () => page.flame.rectangles(),
    painted: () => page.flame.painted,
    sandwich: side => page.sandwichGraphs?.[side]?.rectangles() || [],
  };
  sandwichOpen.addEventListener('click', () => openSandwich(page, page.state.selected));
  compare.addEventListener('change', () => load());
  const labelDiff = () => {
    const byValue = diffMode.value === 'value';
    grewText.textContent = byValue ? 'more than in the base' : 'larger share than in the base';
    shrankText.textContent = byValue ? 'less' : 'smaller share';
  };
  labelDiff();
  diffMode.addEventListener('change', () => {
    labelDiff();
    if (!page.state?.diff) return;
    page.state.byValue = diffMode.value === 'value';
    drawFlame(page);
    showChanges(page, changes);
  });

  let searchTimer = 0;
  search.addEventListener('input', () => {
    if (!page.state) return;
    if (!page.state.view) { drawFlame(page); return; }
    // The server matches the pattern over the whole zoomed frame, narrow frames included: asked once typing pauses.
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => reloadView(page), 200);
  });
  // Enter in the search opens the callers and callees of the heaviest function it matches (by flat, among the top rows).
  search.addEventListener('keydown', e => {
    if (e.key !== 'Enter' || !page.state || !search.value) return;
    e.preventDefault();
    let regex;
    try { regex = new RegExp(search.value); } catch { return; }
    const row = (page.state.topRows?.rows || []).find(r => regex.test(r.name));
    if (row) openSandwich(page, row.name);
    else matched.textContent = 'no function of the top table matches';
  });
  orientation.addEventListener('change', () => { if (page.state) { page.state.flame = orientation.value === 'flame'; drawFlame(page); } });
  form.addEventListener('submit', async e => {
    e.preventDefault();
    await load();
  });

  // firstLook: the view the address asked for, fetched with the page and shown without asking again.
  async function load(firstLook = null) {
    const request = firstLook ? {
      ...firstRequest,
      instanceIds: wanted.instanceIds.length ? wanted.instanceIds : finished.map(i => i.instanceId),
      sampleType: sampleType.value || null,
    } : {
      taskId,
      instanceIds: [...form.querySelectorAll('input[name=instance]:checked')].map(b => b.value),
      sampleType: sampleType.value || null,
      granularity: granularity.value,
      focus: focus.value || null,
      ignore: ignore.value || null,
      tagFocus: tagFocus.value || null,
      tagIgnore: tagIgnore.value || null,
      tagSplit: tagSplit.value.trim() || null,
    };
    try {
      // The server sends what a graph this wide draws (frames of a pixel or more, narrower ones summed per parent)
      // and one page of the top table; zooming and searching ask again, answered from the server's cached tree.
      const data = firstLook || await gql(`query ($r: PprofAnalyzationRequest!, $w: Int!, $search: String) {
        queryPprofFlameView(request: $r, zoom: [], width: $w, search: $search) { ${VIEW_FIELDS} }
        queryPprofTop(request: $r, limit: ${TOP_ROWS}) { ${TOP_FIELDS} } }`, { r: request, w: page.flame.width, search: search.value || null });
      if (!container.isConnected) return;
      clearError();
      let state = firstLook ? viewLayout(data.queryPprofFlameView, request, wanted.zoom, search.value, wanted.narrowerThan)
        : viewLayout(data.queryPprofFlameView, request, [], search.value);
      state.topRows = data.queryPprofTop;
      let diffOmitted = 0;
      legend.hidden = !compare.value;
      if (compare.value) {
        // Diff mode: widths are the selection's values, colours the change of each frame's share against the base.
        // The base is weighed, filtered and split as the selection is: the same sample type, granularity and filters.
        const base = { taskId: compare.value.split('|')[0], instanceIds: compare.value.includes('|') ? [compare.value.split('|')[1]] : [],
          sampleType: request.sampleType, granularity: request.granularity, focus: request.focus, ignore: request.ignore,
          tagFocus: request.tagFocus, tagIgnore: request.tagIgnore, tagSplit: request.tagSplit };
        const diff = await gql(`query ($b: PprofAnalyzationRequest!, $t: PprofAnalyzationRequest!) {
          queryPprofDiff(base: $b, target: $t) { sampleType { type unit } omittedElements elements { id parentId codeSignature baseTotal baseSelf targetTotal targetSelf } }
          base: queryPprofTop(request: $b, limit: 0, orderBy: CUM) { total rows { name flat cum } }
          target: queryPprofTop(request: $t, limit: 0, orderBy: CUM) { total rows { name flat cum } } }`, { b: base, t: request });
        if (!container.isConnected) return;
        diffOmitted = diff.queryPprofDiff.omittedElements;
        const topRows = state.topRows;
        state = layout(diff.queryPprofDiff.elements.map(e => ({ ...e, total: e.targetTotal, self: e.targetSelf, base: e.baseTotal })), diff.queryPprofDiff.sampleType);
        state.topRows = topRows;
        state.request = request;
        state.diff = true;
        state.byValue = diffMode.value === 'value';
        state.baseRoot = state.root.base;
        state.tables = { base: diff.base, target: diff.target };
        // A zoom from the address, followed name by name as far as the diff's tree goes.
        if (firstLook) for (const name of wanted.zoom) state.zoom = state.zoom.children.find(c => c.codeSignature === name) || state.zoom;
      }
      omitted.hidden = !diffOmitted;
      omitted.textContent = diffOmitted ? `${diffOmitted.toLocaleString()} lighter frames are not drawn (the server sends the heaviest only); the downloads below hold every frame.` : '';
      state.flame = orientation.value === 'flame';
      page.state = state;
      // The pprof download is the merged profile, whole; the others are the graph shown, filters and split included.
      const query = new URLSearchParams({ instances: request.instanceIds.join(','), sampleType: request.sampleType || '', granularity: request.granularity.toLowerCase() });
      const shaped = new URLSearchParams(query);
      for (const [key, value] of [['focus', request.focus], ['ignore', request.ignore], ['tagFocus', request.tagFocus], ['tagIgnore', request.tagIgnore], ['tagSplit', request.tagSplit]]) {
        if (value) shaped.set(key, value);
      }
      downloads.replaceChildren('Download: ', ...['pprof', 'folded', 'svg', 'speedscope'].flatMap((f, i) => [i ? ' · ' : '',
        el('a', { href: `/api/tasks/${encodeURIComponent(taskId)}/profile?format=${f}&${f === 'pprof' ? query : shaped}`, download: '', class: `download-${f}`, onclick: downloadWithToken }, f)]));
      // The table first, the graph last: the graph measures its width, which lays the page out once with the table in it.
      drawTop(page);
      drawFlame(page);
      showChanges(page, changes);
      if (goroutines || stacks.open) showGroups(page, groups);
      if (labels.open) showLabels(page, labelList);
      if (hotLines.open) showHotLines(page, lineList);
      // The sandwich follows the selection; one named in the address opens with the first look.
      const sandwichName = firstLook ? wanted.sandwich : page.sandwichOf;
      if (sandwichName && !compare.value) openSandwich(page, sandwichName);
      else closeSandwich(page);
      // For the page benchmark (benchmarks/README.md): when the first look is on screen (the frame after it was drawn
      // has been painted), on the page's own clock.
      if (firstLook) afterPaint('flamewright:first-look');
    } catch (err) { showError(err.message); }
  }
  if (finished.length) await load(firstLook);
  else container.replaceChildren(el('p', { class: 'muted' }, 'No instance has uploaded a profile yet.'));
}

// Each frame's name is sent once, in names; frames point at it by nameIndex.

// The graph's width before it exists, for the first request: the page's, less its padding and the graph's border.
const percent = (v, of) => `${(of ? 100 * v / of : 0).toFixed(2)}%`;
const share = (v, of) => (of ? percent(v, of) : '—');

// A view (its frames as columns, in pre-order, each naming its parent's position) → nodes with children; each narrower
// block becomes one "N small frames" child after its parent's drawn children. The zoom root's ancestors come apart, for the trail.
function viewLayout(view, request, zoomPath, search, narrowerThan = null) {
  const { node, parent, nameIndex, total, self } = view.frameColumns;
  const matched = new Set(view.frameColumns.matched);
  const nodes = new Array(node.length);
  for (let i = 0; i < node.length; i++) {
    nodes[i] = { id: String(node[i]), codeSignature: view.names[nameIndex[i]], file: view.files?.[nameIndex[i]] || '', total: total[i], self: self[i], matched: matched.has(i), children: [] };
    if (parent[i] >= 0) { nodes[i].parent = nodes[parent[i]]; nodes[parent[i]].children.push(nodes[i]); }
  }
  const blocks = view.narrowerColumns;
  for (let i = 0; i < blocks.parent.length; i++) {
    const p = nodes[blocks.parent[i]];
    p.children.push({ id: `${p.id}~small`, codeSignature: `${blocks.count[i]} small frames`, total: blocks.total[i], self: 0, children: [], tiny: true, parent: p });
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
    // The person may have left the page while the server answered: nothing of it is drawn then.
    if (!page.flame.container.isConnected) return;
    page.state = Object.assign(viewLayout(data.queryPprofFlameView, state.request, target.path, search.value, target.narrowerThan),
      { flame: state.flame, topRows: state.topRows, sortKey: state.sortKey, sortAscending: state.sortAscending, selected: state.selected });
    clearError();
    drawFlame(page);
    // For the page benchmark: a view asked again (a zoom, a search) is on screen.
    afterPaint('flamewright:view-drawn');
  } catch (err) {
    if (search.value && err.message.startsWith('search:')) matched.textContent = err.message;
    else showError(err.message);
  }
}

// Sets a performance mark once the frame after this one has been painted: when what was just drawn is on screen,
// on the page's own clock (the page benchmark reads these marks, benchmarks/README.md).
function afterPaint(name) {
  requestAnimationFrame(() => setTimeout(() => performance.mark(name)));
}

// The zoomed node's ancestors, drawn above it at full width: sent with a view, found in a diff's whole tree.
function ancestorsOf(state) {
  if (state.view) return state.ancestors;
  const ancestors = [];
  for (let n = state.zoom.parent; n; n = n.parent) ancestors.unshift(n);
  return ancestors;
}

// The names from the root's child down to the zoomed frame.
function zoomNames(state) {
  if (state.view) return state.zoomPath;
  return [...ancestorsOf(state), state.zoom].slice(1).map(n => n.codeSignature);
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
    diff: state.diff ? n => change(state, n.total, n.base || 0) : null,
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
  page.remember?.();
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
  performance.mark('flamewright:zoom');
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
  performance.mark('flamewright:zoom');
  if (f.kind === 'ancestor') zoomTo(page, ancestorsOf(state).indexOf(f.node));
  else if (state.view) {
    reloadView(page, f.kind === 'tiny' ? { path: pathOf(state, f.node.parent), narrowerThan: state.minTotal } : { path: pathOf(state, f.node), narrowerThan: null });
  } else if (f.kind !== 'tiny') { state.zoom = f.node; drawFlame(page); }
}

function showTip(page, node, x, y) {
  const { state, tip } = page;
  tip.replaceChildren(el('strong', {}, node.codeSignature),
    // At line granularity the name holds the file already.
    node.file && !lineOf(node.codeSignature) ? el('div', { class: 'muted' }, node.file) : '',
    el('div', {}, `total ${formatValue(node.total, state.unit)} (${share(node.total, state.root.total)} of all, ${share(node.total, state.zoom.total)} of zoomed)`),
    el('div', {}, `self ${formatValue(node.self, state.unit)}`),
    state.diff ? el('div', {}, `base ${formatValue(node.base || 0, state.unit)} (${share(node.base || 0, state.baseRoot)} of the base)`) : '');
  placeTip(tip, x, y);
}

// How much a value changed against the base, in points: of each side's own total (by share), or of the larger total
// (by value).
function change(state, target, base) {
  if (state.byValue) {
    const scale = Math.max(Math.abs(state.root.total), Math.abs(state.baseRoot || 0));
    return scale ? 100 * (target - base) / scale : 0;
  }
  return (state.root.total ? 100 * target / state.root.total : 0) - (state.baseRoot ? 100 * base / state.baseRoot : 0);
}

// Rows of the table of the functions that changed most.
const CHANGED_ROWS = 30;

// In a diff, the functions whose cum changed most (as the graph's colours measure change), from both sides' top
// tables, each function once: what to look at first.
function showChanges(page, target) {
  const { state } = page;
  target.hidden = !state.diff;
  if (!state.diff) { target.replaceChildren(); return; }
  const base = new Map(state.tables.base.rows.map(r => [r.name, r]));
  const now = new Map(state.tables.target.rows.map(r => [r.name, r]));
  const rows = [...new Set([...base.keys(), ...now.keys()])].map(name => {
    const before = base.get(name)?.cum || 0;
    const after = now.get(name)?.cum || 0;
    return { name, before, after, points: change(state, after, before) };
  }).filter(r => r.before !== r.after)
    .sort((a, b) => Math.abs(b.points) - Math.abs(a.points) || Math.abs(b.after - b.before) - Math.abs(a.after - a.before) || (a.name < b.name ? -1 : 1));
  const signed = (v, text) => (v > 0 ? `+${text}` : text);
  target.replaceChildren(el('h2', {}, 'Functions that changed most'),
    el('table', { id: 'changed' },
      el('thead', {}, el('tr', {}, ['Function', 'Cum in the base', 'Cum now', 'Change', state.byValue ? 'Points of the larger total' : 'Share, points'].map(h => el('th', {}, h)))),
      el('tbody', {}, rows.slice(0, CHANGED_ROWS).map(r => el('tr', { class: r.points > 0 ? 'grew' : 'shrank' },
        el('td', {}, r.name), el('td', {}, formatValue(r.before, state.unit)), el('td', {}, formatValue(r.after, state.unit)),
        el('td', {}, signed(r.after - r.before, formatValue(r.after - r.before, state.unit))), el('td', {}, signed(r.points, r.points.toFixed(2))))))),
    rows.length > CHANGED_ROWS ? el('p', { class: 'muted' }, `the ${CHANGED_ROWS} largest changes of ${rows.length}`) : []);
}

// Asks the server for a part of the page that follows the selection (its stack groups, its labels, its lines; override
// changes the request, as the lines' granularity) and shows what render(answer) makes of it in target, unless the
// page was left or the selection changed meanwhile.
async function showSection(page, target, query, render, failure, override = {}) {
  const request = page.state.request;
  try {
    const answer = Object.values(await gql(query, { r: { ...request, ...override } }))[0];
    if (target.isConnected && page.state.request === request) target.replaceChildren(...render(answer));
  } catch (err) {
    if (target.isConnected) target.replaceChildren(el('p', { class: 'muted' }, `${failure}: ${err.message}`));
  }
}

// A label filter that matches exactly one string value of a key: the value as a regular expression that matches only
// itself, its commas written \x2c, since a filter's commas separate expressions.
export function exactLabelFilter(key, value) {
  return `${key}=^${value.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&').replaceAll(',', '\\x2c')}$`;
}

// The labels of the selection's samples: per key, each value with its value, its share of the key (of the samples
// that carry it) and its share of the whole selection. A key splits the graph by its values; a string value keeps
// only its samples or leaves them out.
function showLabels(page, target) {
  return showSection(page, target, `query ($r: PprofAnalyzationRequest!) {
    queryPprofLabels(request: $r) { sampleType { type unit } total keys { key total numeric values { value total } } } }`, answer => {
    const unit = answer.sampleType.unit;
    const button = (text, label, onclick) => el('button', { type: 'button', class: 'label-action', 'aria-label': label, onclick }, text);
    return answer.keys.length ? answer.keys.map(k => el('div', { class: 'label-key' },
      el('h3', {}, k.key, el('span', { class: 'muted' }, ` ${formatValue(k.total, unit)}, ${percent(k.total, answer.total)} of all `),
        button('split the graph by it', `split the graph by ${k.key}`, () => page.useLabel('split', k.key))),
      el('table', {}, el('thead', {}, el('tr', {}, ['Value', 'Total', `Of ${k.key}`, 'Of all', ''].map(h => el('th', {}, h)))),
        el('tbody', {}, k.values.map(v => el('tr', {}, el('td', {}, v.value), el('td', {}, formatValue(v.total, unit)),
          el('td', {}, percent(v.total, k.total)), el('td', {}, percent(v.total, answer.total)),
          el('td', {}, k.numeric ? [] : [
            button('only', `only ${k.key}=${v.value}`, () => page.useLabel('focus', exactLabelFilter(k.key, v.value))), ' ',
            button('without', `without ${k.key}=${v.value}`, () => page.useLabel('ignore', exactLabelFilter(k.key, v.value)))]))))))) : [el('p', { class: 'muted' }, 'No sample carries a label.')];
  }, 'The labels could not be read');
}

// Groups asked for at once: the largest, which is what a person reads.
const GROUPS = 50;

// The selection's samples grouped by stack and labels, largest first.
function showGroups(page, target) {
  return showSection(page, target, `query ($r: PprofAnalyzationRequest!) {
    queryPprofStackGroups(request: $r, limit: ${GROUPS}) { sampleType { type unit } total groupCount groups { value frames labels { key value } } } }`,
  groupList, 'The stacks could not be grouped');
}

// "3 goroutines (25.00%) in main.parkedReceiver  handler=/api", each opening to its whole stack, leaf first. "In" names
// the first frame outside the runtime: where the goroutine's own code waits.
function groupList(answer) {
  const counted = answer.sampleType.type === 'goroutine';
  const amount = v => (counted ? `${v.toLocaleString()} goroutine${v === 1 ? '' : 's'}` : formatValue(v, answer.sampleType.unit));
  return [
    el('h2', {}, counted ? `${answer.total.toLocaleString()} goroutines in ${answer.groupCount.toLocaleString()} groups` : `${answer.groupCount.toLocaleString()} distinct stacks`),
    answer.groupCount > answer.groups.length ? el('p', { class: 'muted' }, `the ${answer.groups.length} largest, of ${answer.groupCount.toLocaleString()}`) : [],
    el('ol', { class: 'groups' }, answer.groups.map(group => {
      const where = group.frames.find(f => packageOf(f) !== 'runtime') || group.frames[0] || '';
      return el('li', {}, el('details', {},
        el('summary', {}, el('strong', {}, amount(group.value)), ` (${percent(group.value, answer.total)}) in `, el('code', {}, where),
          group.labels.length ? el('span', { class: 'labels' }, group.labels.map(l => `${l.key}=${l.value}`).join(' · ')) : []),
        el('ol', { class: 'frames' }, group.frames.map(f => el('li', {}, el('code', {}, f))))));
    })),
  ];
}

// The top table is sorted and paged on the server: a click on a column asks for the first rows in that order.
const SORT_ORDER = { name: 'NAME', flat: 'FLAT', flatPercent: 'FLAT', cum: 'CUM', cumPercent: 'CUM' };
// Rows of the top table drawn with the graph; the rest of the page of TOP_ROWS follows once the graph is on screen.
const TOP_ROWS_FIRST = 50;

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
    for (const tr of body.children) tr.classList.toggle('selected', tr === row);
    drawFlame(page);
    showSandwichButton(page);
  };
  const body = document.createElement('tbody');
  const addRow = (r, i) => {
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
  };
  // The rows a window shows at once now, the rest once the page is idle (the graph on screen): laying out hundreds of
  // rows below the graph would hold back its first paint.
  rows.rows.slice(0, TOP_ROWS_FIRST).forEach(addRow);
  if (rows.rows.length > TOP_ROWS_FIRST) {
    requestIdleCallback(() => {
      if (body.isConnected) rows.rows.slice(TOP_ROWS_FIRST).forEach((r, i) => addRow(r, TOP_ROWS_FIRST + i));
    }, { timeout: 1000 });
  }
  body.addEventListener('click', select);
  body.addEventListener('keydown', select);
  top.replaceChildren(
    el('thead', {}, el('tr', {}, columns.map(([key, label]) => el('th', {},
      el('button', { type: 'button', class: 'sort', 'data-key': key, 'aria-sort': state.sortKey === key ? (state.sortAscending ? 'ascending' : 'descending') : 'none',
        onclick: () => resort(key) }, label))))),
    rows.rowCount > rows.rows.length ? el('caption', { class: 'muted' }, `the first ${rows.rows.length} of ${rows.rowCount} functions, in this order`) : [],
    body);
}

// The button that opens the sandwich of the function marked in the top table.
function showSandwichButton(page) {
  const name = page.state?.selected;
  page.sandwichOpen.hidden = !name || !!page.state.diff;
  page.sandwichOpen.textContent = name ? `callers and callees of ${name}` : '';
}

// Shows what calls function and what it calls: its callers graph upside down above it, its callees graph below it,
// each opening at the function with its cum, and the direct calls both ways with their values (go tool pprof -peek's).
// zooms: per side, the frame names from the function down, to zoom that graph; narrower: per side, the minimum total of
// the view whose block of narrower frames under the zoomed frame is shown alone (a click on such a block).
async function openSandwich(page, name, zooms = {}, narrower = {}) {
  const { state, sandwich } = page;
  if (!name || !state || state.diff) return;
  const width = page.flame.width;
  const zoom = { callers: zooms.callers || [name], callees: zooms.callees || [name] };
  try {
    const data = await gql(`query ($r: PprofAnalyzationRequest!, $lr: PprofAnalyzationRequest!, $f: String!, $w: Int!, $cz: [String!], $dz: [String!], $cn: Long, $dn: Long) {
      queryPprofSandwich(request: $r, function: $f, width: $w, callersZoom: $cz, calleesZoom: $dz, callersNarrowerThan: $cn, calleesNarrowerThan: $dn) {
        sampleType { type unit } function flat cum total callers { name value } callees { name value }
        callersView { ${VIEW_FIELDS} } calleesView { ${VIEW_FIELDS} } }
      lines: queryPprofTop(request: $lr, function: $f, limit: ${LINE_ROWS}, orderBy: FLAT) { ${TOP_FIELDS} } }`,
    { r: state.request, lr: { ...state.request, granularity: 'LINE' }, f: name, w: width, cz: zoom.callers, dz: zoom.callees, cn: narrower.callers ?? null, dn: narrower.callees ?? null });
    if (!sandwich.isConnected || page.state?.request !== state.request) return;
    const answer = data.queryPprofSandwich;
    page.sandwichOf = name;
    const unit = answer.sampleType.unit;
    const callersBox = el('div', { id: 'sandwich-callers', class: 'flame' });
    const calleesBox = el('div', { id: 'sandwich-callees', class: 'flame' });
    const calls = (id, title, edges) => el('table', { id },
      el('thead', {}, el('tr', {}, [title, 'Value', `Of ${name}`].map(h => el('th', {}, h)))),
      el('tbody', {}, edges.map(e => el('tr', {}, el('td', {}, e.name), el('td', {}, formatValue(e.value, unit)), el('td', {}, percent(e.value, answer.cum))))));
    sandwich.replaceChildren(
      el('h2', {}, 'Callers and callees of ', el('code', {}, name), ' ', el('button', { type: 'button', class: 'label-action', id: 'sandwich-close', onclick: () => closeSandwich(page) }, 'close')),
      el('p', { class: 'muted' }, `flat ${formatValue(answer.flat, unit)} (${percent(answer.flat, answer.total)}), cum ${formatValue(answer.cum, unit)} (${percent(answer.cum, answer.total)}) of all. `,
        'Above: who calls it, their callers above them; below: what it calls. Right-click (or S on) a frame to center on that function.'),
      callersBox, calleesBox,
      el('div', { class: 'calls' }, calls('sandwich-callers-table', 'Called by', answer.callers), calls('sandwich-callees-table', 'Calls', answer.callees)),
      el('h3', {}, `Lines of ${name}`), lineTable('sandwich-lines', data.lines, unit));
    sandwich.hidden = false;
    // Each graph is a flame graph of its own: the callers one with its root at the bottom, so that callers sit above.
    const graph = (box, view, side, flame) => {
      const layoutOf = viewLayout(view, state.request, zoom[side], '', narrower[side] ?? null);
      // Zooming one graph keeps the other as it is.
      const other = side === 'callers' ? 'callees' : 'callers';
      const keep = { [other]: narrower[other] };
      const graphView = new FlameGraph(box, {
        zoom: f => {
          // A block of narrower frames: its frames alone, across the width, under their parent; every frame stays reachable.
          if (f.kind === 'tiny') openSandwich(page, name, { ...zoom, [side]: pathOf(layoutOf, f.node.parent) }, { ...keep, [side]: layoutOf.minTotal });
          else if (f.kind === 'ancestor') openSandwich(page, name, { ...zoom, [side]: zoom[side].slice(0, Math.max(1, layoutOf.ancestors.indexOf(f.node))) }, keep);
          else openSandwich(page, name, { ...zoom, [side]: pathOf(layoutOf, f.node) }, keep);
        },
        back: () => (narrower[side] != null ? openSandwich(page, name, zoom, keep)
          : openSandwich(page, name, { ...zoom, [side]: zoom[side].slice(0, Math.max(1, zoom[side].length - 1)) }, keep)),
        pick: f => openSandwich(page, f.node.codeSignature),
        hover: (f, x, y) => (f ? sandwichTip(page, f.node, answer, x, y) : (page.tip.hidden = true)),
      });
      // The root above the function says nothing here: the function is where each graph starts.
      graphView.draw({ zoom: layoutOf.zoom, ancestors: layoutOf.ancestors.slice(1), span: layoutOf.span || layoutOf.zoom.total, flame, selected: null, match: null, diff: null });
      return graphView;
    };
    page.sandwichGraphs = { callers: graph(callersBox, answer.callersView, 'callers', true), callees: graph(calleesBox, answer.calleesView, 'callees', false) };
    clearError();
    page.remember?.();
  } catch (err) { showError(err.message); }
}

function closeSandwich(page) {
  page.sandwichOf = null;
  page.sandwichGraphs = null;
  page.sandwich.hidden = true;
  page.sandwich.replaceChildren();
  showSandwichButton(page);
  if (page.state) page.remember?.();
}

function sandwichTip(page, node, answer, x, y) {
  const { tip } = page;
  const unit = answer.sampleType.unit;
  tip.replaceChildren(el('strong', {}, node.codeSignature),
    node.file && !lineOf(node.codeSignature) ? el('div', { class: 'muted' }, node.file) : '',
    el('div', {}, `total ${formatValue(node.total, unit)} (${percent(node.total, answer.cum)} of ${answer.function}, ${percent(node.total, answer.total)} of all)`),
    el('div', {}, `self ${formatValue(node.self, unit)}`));
  placeTip(tip, x, y);
}

// Rows of a table of lines: the hottest, which are what a person reads.
const LINE_ROWS = 100;

// The selection's hottest source lines, as go tool pprof -lines -top lists them.
function showHotLines(page, target) {
  return showSection(page, target, `query ($r: PprofAnalyzationRequest!) {
    queryPprofTop(request: $r, limit: ${LINE_ROWS}, orderBy: FLAT) { sampleType { unit } ${TOP_FIELDS} } }`,
  answer => [lineTable('hot-lines-table', answer, answer.sampleType.unit)], 'The lines could not be read', { granularity: 'LINE' });
}

// A table of lines (top rows at line granularity), hottest first: the function, the file (its directories in the
// tooltip) and line, flat and cum with their shares of all.
function lineTable(id, top, unit) {
  const cell = name => {
    const line = lineOf(name);
    if (!line) return el('td', {}, name);
    const base = line.file.slice(Math.max(line.file.lastIndexOf('/'), line.file.lastIndexOf('\\')) + 1);
    return el('td', { title: name }, el('code', {}, line.func), ' ', el('span', { class: 'muted' }, `${base}:${line.line}`));
  };
  return el('div', {},
    el('table', { id }, el('thead', {}, el('tr', {}, ['Line', 'Flat', 'Flat %', 'Cum', 'Cum %'].map(h => el('th', {}, h)))),
      el('tbody', {}, top.rows.map(r => el('tr', {}, cell(r.name), el('td', {}, formatValue(r.flat, unit)), el('td', {}, `${r.flatPercent.toFixed(2)}%`),
        el('td', {}, formatValue(r.cum, unit)), el('td', {}, `${r.cumPercent.toFixed(2)}%`))))),
    top.rowCount > top.rows.length ? el('p', { class: 'muted' }, `the ${top.rows.length} hottest of ${top.rowCount} lines`) : []);
}

// Shows the tooltip beside the pointer (page coordinates), kept inside the page's width.
function placeTip(tip, x, y) {
  tip.style.left = `${Math.min(x + 12, document.documentElement.scrollWidth - 360)}px`;
  tip.style.top = `${y + 12}px`;
  tip.hidden = false;
}
