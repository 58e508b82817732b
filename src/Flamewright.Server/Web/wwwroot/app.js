// Flamewright's web UI: plain JavaScript modules, no build step (docs/ui.md). This one is the router: the part of
// the address after # names the page. dom.js and api.js are the helpers every page uses, pages.js the services,
// tasks and token pages, analysis.js the flame graph's page and flame.js the graph itself.

import { TokenNeeded } from './api.js';
import { el, view, render, showError, clearError } from './dom.js';
import { servicesView, serviceView, taskView, tokenView, showForget } from './pages.js';
import { analysisView } from './analysis.js';
import { parseAddress } from './firstlook.js';

// A running task's page is shown again this often.
const REFRESH_MS = 2000;
let refreshTimer = null;

async function route(refreshing = false) {
  clearTimeout(refreshTimer);
  if (!refreshing) clearError();
  view.classList.remove('wide');
  try {
    // "#/analysis/ID?zoom=…": the page, then what it should show (analysis.js).
    const { path: hash, params } = parseAddress();
    if (hash.startsWith('/services/')) await serviceView(hash.slice('/services/'.length));
    else if (hash.startsWith('/tasks/')) {
      if (await taskView(hash.slice('/tasks/'.length))) refreshTimer = setTimeout(() => route(true), REFRESH_MS);
    }
    else if (hash.startsWith('/analysis/')) await analysisView(hash.slice('/analysis/'.length), params);
    else await servicesView();
    if (refreshing) clearError();
  } catch (e) {
    if (e instanceof TokenNeeded) { tokenView(e.message, () => route()); return; }
    showError(e.message);
    if (!refreshing) render(el('p', { class: 'muted' }, 'This page could not be shown.'));
  }
}

window.addEventListener('hashchange', () => { route(); view.focus(); });
showForget();
route();
