// The page's frame and small DOM helpers. Every name shown comes from agents and is untrusted: text goes in through
// textContent only, never as HTML.

export const view = document.getElementById('view');
const crumbs = document.getElementById('crumbs');
const message = document.getElementById('message');

// Small DOM helpers: el('td', {class: 'x'}, 'text', child) — strings become text nodes, never HTML.
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === false || v === null || v === undefined) continue;
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v); else node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

export function showError(text) { message.textContent = text; message.hidden = false; }
export function clearError() { message.hidden = true; message.textContent = ''; }
export function setCrumbs(...parts) { crumbs.replaceChildren(...parts.flatMap((p, i) => (i ? [' › ', p] : [p]))); }
export function render(...nodes) { view.replaceChildren(...nodes); }
export const time = ms => new Date(ms).toLocaleString();
