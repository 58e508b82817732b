// The server's API as the pages use it: GraphQL at /graphql, the access a token gives, downloads that carry the
// token, and SkyWalking's durations in the server's local time.

import { el, showError } from './dom.js';
import { TOKEN_KEY, authHeaders, postGraphQL } from './firstlook.js';

export { TOKEN_KEY };
export const storedToken = () => localStorage.getItem(TOKEN_KEY);

// Thrown when the server wants a token (or refused the stored one): the page asks for it instead of failing.
export class TokenNeeded extends Error {}

export async function gql(query, variables = {}) {
  const body = await gqlAnswer(query, variables);
  if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
  return body.data;
}

// The whole answer, data and errors: for a document whose fields may fail on their own.
export const gqlAnswer = (query, variables = {}) => answerOf(postGraphQL(JSON.stringify({ query, variables })));

// The answer of a POST already sent (postGraphQL): a token asked for, or the server out of reach, become errors here.
export async function answerOf(sent) {
  let response;
  try {
    response = await sent;
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
export async function accessLevel() {
  const response = await fetch('/api/access', { headers: authHeaders() });
  if (response.status === 401) throw new TokenNeeded('This server asks for an API token.');
  return (await response.json()).access;
}

// A download through fetch when a token is stored (a plain link cannot carry the Authorization header).
export async function downloadWithToken(event) {
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

// SkyWalking's Duration is in the server's local time: build "yyyy-MM-dd HHmm" from its clock and offset.
export async function lastMinutes(minutes) {
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
