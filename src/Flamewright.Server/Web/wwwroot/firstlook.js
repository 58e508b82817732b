// The analysis page's first request, sent as soon as the document is parsed: index.html loads this module first, and
// it imports nothing, so the graph's first look is on its way while the rest of the page's modules still load
// (docs/ui.md, under firstlook.js). analysis.js builds the same request here and takes the answer already under way.
// Also what both need to read the address and to reach the API: the address's parts, the token, one POST.

// The API token, when the server asks for one: kept in this browser until "Forget token".
export const TOKEN_KEY = 'flamewright.apiToken';

// What a view and a top table are asked for, wherever the page asks for them. A view's frames come as columns, a list
// of numbers per field: a fraction of the bytes of one object per frame (docs/ui.md).
export const VIEW_FIELDS = 'sampleType { type unit } total span minTotal ancestors { node name total } names files frameColumns { node parent nameIndex total self matched } narrowerColumns { parent count total } matchedTotal';
export const TOP_FIELDS = 'rowCount rows { name flat flatPercent cum cumPercent }';
export const TOP_ROWS = 300;

// "#/analysis/ID?zoom=…": the page (decoded), then what it should show.
export function parseAddress() {
  const address = location.hash.slice(1);
  const question = address.indexOf('?');
  return {
    path: decodeURIComponent((question < 0 ? address : address.slice(0, question)) || '/'),
    params: new URLSearchParams(question < 0 ? '' : address.slice(question + 1)),
  };
}

// What the address after "?" may hold (docs/ui.md): the selection, the comparison, the zoom, the search and the
// orientation, so that a reload or a pasted link shows the same picture.
export function fromAddress(params) {
  let zoom = [];
  try {
    const parsed = JSON.parse(params.get('zoom') || '[]');
    if (Array.isArray(parsed) && parsed.every(n => typeof n === 'string')) zoom = parsed;
  } catch { /* a hand-edited zoom that is not a list of names: the whole graph */ }
  const narrower = Number(params.get('narrower'));
  return {
    instanceIds: params.getAll('instance'),
    sampleType: params.get('type') || null,
    granularity: params.get('granularity') === 'line' ? 'LINE' : 'FUNCTION',
    focus: params.get('focus') || null,
    ignore: params.get('ignore') || null,
    tagFocus: params.get('tagfocus') || null,
    tagIgnore: params.get('tagignore') || null,
    tagSplit: params.get('split') || null,
    compare: params.get('compare') || '',
    zoom,
    narrowerThan: params.has('narrower') && Number.isSafeInteger(narrower) && narrower > 0 ? narrower : null,
    search: params.get('search') || '',
    sandwich: params.get('sandwich') || '',
    flame: params.get('orientation') === 'flame',
    byValue: params.get('diff') === 'value',
  };
}

// The graph's width for a first look: the page's width inside its padding, the page being wide while it shows a graph.
export function firstGraphWidth() {
  const view = document.getElementById('view');
  view.classList.add('wide');
  const style = getComputedStyle(view);
  return Math.max(1, Math.floor(view.getBoundingClientRect().width - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 2) || 1000);
}

// The selection an analysis request names, from what the address wants.
export const requestOf = (taskId, wanted) => ({ taskId, instanceIds: wanted.instanceIds, sampleType: wanted.sampleType, granularity: wanted.granularity,
  focus: wanted.focus, ignore: wanted.ignore, tagFocus: wanted.tagFocus, tagIgnore: wanted.tagIgnore, tagSplit: wanted.tagSplit });

// One round trip: the task, its sample types, the service's tasks, and the view the address asks for with its top
// table, as the body of the POST. Without anything after "?", that is the default view (every instance that
// uploaded, the event's sample type, functions).
export function firstLookBody(taskId, wanted, width) {
  const serviceId = taskId.slice(taskId.indexOf('_') + 1);
  return JSON.stringify({
    query: `query ($id: String!, $tid: ID!, $l: PprofTaskListRequest!, $r: PprofAnalyzationRequest!, $w: Int!, $z: [String!], $search: String, $n: Long) {
    queryPprofTaskProgress(taskId: $id) { instances { instanceId instanceName state } }
    queryPprofSampleTypes(taskId: $tid) { index type unit isDefault }
    queryPprofTaskList(request: $l) { tasks { id events createTime } }
    view: queryPprofFlameView(request: $r, zoom: $z, width: $w, search: $search, narrowerThan: $n) { ${VIEW_FIELDS} }
    top: queryPprofTop(request: $r, limit: ${TOP_ROWS}) { ${TOP_FIELDS} } }`,
    variables: { id: taskId, tid: taskId, l: { serviceId, limit: 50 }, r: requestOf(taskId, wanted), w: width, z: wanted.zoom,
      search: wanted.search || null, n: wanted.narrowerThan },
  });
}

// Whether the server asks for an API token: index.html says so (the server writes it), and this module runs once the
// document is parsed. A page's first read of the browser's storage is slow, and would hold back its first request.
const TOKEN_ASKED = document.querySelector('meta[name="flamewright-token"]')?.content !== 'none';

// The stored token as the header every request carries; none without a token, or when the server asks for none.
export function authHeaders() {
  const token = TOKEN_ASKED ? localStorage.getItem(TOKEN_KEY) : null;
  return token ? { authorization: `Bearer ${token}` } : {};
}

// A GraphQL POST of a body already written, with the stored token: the response, not yet read.
export function postGraphQL(body) {
  return fetch('/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...authHeaders() }, body });
}

// The first look sent while the page loaded: taken once, and only for the very request the page would send.
let early = null;

export function takeFirstLook(body) {
  const sent = early;
  early = null;
  return sent && sent.body === body ? sent.response : null;
}

// Sends the first look at once when the page opens on a graph's address.
function startFirstLook() {
  const { path, params } = parseAddress();
  if (!path.startsWith('/analysis/')) return;
  const body = firstLookBody(path.slice('/analysis/'.length), fromAddress(params), firstGraphWidth());
  const response = postGraphQL(body);
  // A failure is the page's to report when it takes the answer; until then it is not an unhandled rejection.
  response.catch(() => {});
  early = { body, response };
}

// Whatever goes wrong here (an address that does not decode, storage the browser refuses) must not stop the page
// loading: it then asks for itself, and says what is wrong.
try {
  startFirstLook();
} catch { /* the page's own request follows */ }
