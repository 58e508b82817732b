// The SVG flame graph's viewer (SvgFlameGraph.cs embeds it in every SVG it writes, then calls it with the graph's
// geometry in sample units: x, the offset from the root's left edge; v, the width; p, the parent; one entry per drawn
// frame in document order). Names come from each frame's tooltip, so no profile text is ever embedded in script.

(function (D) {
  'use strict';
  var SVG = 'http://www.w3.org/2000/svg';
  var HIDDEN = 1, ANCESTOR = 2, MATCHED = 4;
  var frames = document.getElementById('frames');
  var details = document.getElementById('details');
  var matched = document.getElementById('matched');
  var resetButton = document.getElementById('reset');
  var clearButton = document.getElementById('clear');
  var gs = Array.prototype.slice.call(frames.children);
  var n = gs.length, X = D.x, V = D.v, P = D.p;
  var ends = new Int32Array(n), state = new Uint8Array(n), names = null, labels = new Array(n), zoomed = 0, lastTerm = '';
  var i;
  // Subtree ends from parents: frames are in pre-order, so a subtree is an index range.
  for (i = n - 1; i >= 0; i--) {
    gs[i].fwIndex = i;
    if (ends[i] < i + 1) ends[i] = i + 1;
    if (P[i] >= 0 && ends[P[i]] < ends[i]) ends[P[i]] = ends[i];
  }

  function nameOf(k) {
    if (names === null) {
      names = new Array(n);
      for (var j = 0; j < n; j++) {
        var t = gs[j].firstElementChild.textContent, nl = t.indexOf('\n');
        names[j] = nl < 0 ? t : t.slice(0, nl);
      }
    }
    return names[k];
  }

  function fit(s, width, charWidth) {
    var room = Math.floor((width - 2 * D.pad) / charWidth);
    if (s.length <= room) return s;
    if (room < 3) return '';
    var cut = room - 2, c = s.charCodeAt(cut - 1);
    if (c >= 0xD800 && c <= 0xDBFF) cut--;
    return s.slice(0, cut) + '..';
  }

  function setState(k, s) {
    if (state[k] === s) return;
    state[k] = s;
    var c = [];
    if (s & HIDDEN) c.push('h');
    if (s & ANCESTOR) c.push('a');
    if (s & MATCHED) c.push('m');
    if (c.length) gs[k].setAttribute('class', c.join(' ')); else gs[k].removeAttribute('class');
  }

  function place(k, x, width) {
    var g = gs[k], r = g.children[1], t = g.children[2];
    r.setAttribute('x', x.toFixed(2));
    r.setAttribute('width', width.toFixed(2));
    var label = fit(nameOf(k), width, D.cw);
    if (!t) {
      if (!label) return;
      t = document.createElementNS(SVG, 'text');
      t.setAttribute('y', (parseFloat(r.getAttribute('y')) + D.ty).toFixed(2));
      g.appendChild(t);
      labels[k] = '';
    }
    t.setAttribute('x', (x + D.pad).toFixed(2));
    if (labels[k] === undefined) labels[k] = t.textContent;
    if (labels[k] !== label) {
      labels[k] = label; // rewriting an unchanged text node still costs a relayout of it
      t.textContent = label;
    }
  }

  // The zoomed frame fills the width, its subtree is rescaled, its ancestors span the width greyed out
  // and everything else is hidden. Only frames whose state or geometry changes are touched.
  function zoom(k) {
    var scale = D.width / V[k], x0 = X[k], end = ends[k], a;
    var ancestor = new Uint8Array(n);
    for (a = P[k]; a >= 0; a = P[a]) ancestor[a] = 1;
    for (var j = 0; j < n; j++) {
      var m = state[j] & MATCHED;
      if (j >= k && j < end) {
        place(j, D.margin + (X[j] - x0) * scale, V[j] * scale);
        setState(j, m);
      } else if (ancestor[j]) {
        place(j, D.margin, D.width);
        setState(j, m | ANCESTOR);
      } else {
        setState(j, m | HIDDEN);
      }
    }
    zoomed = k;
    resetButton.setAttribute('class', k === 0 ? 'c off' : 'c');
  }

  // Matched share of the root: a match inside an already counted match's subtree is not counted again.
  function search() {
    var term = window.prompt('Search frames (regular expression; plain text if it is not a valid one):', lastTerm);
    if (term === null) return;
    if (term === '') { clearSearch(); return; }
    lastTerm = term;
    var test;
    try {
      var re = new RegExp(term);
      test = function (s) { return re.test(s); };
    } catch (e) {
      test = function (s) { return s.indexOf(term) >= 0; };
    }
    var sum = 0, countedUntil = 0, hits = 0;
    for (var j = 0; j < n; j++) {
      var hit = test(nameOf(j));
      setState(j, hit ? state[j] | MATCHED : state[j] & ~MATCHED);
      if (!hit) continue;
      hits++;
      if (j >= countedUntil) {
        sum += V[j];
        countedUntil = ends[j];
      }
    }
    var percent = n > 0 && V[0] > 0 ? 100 * sum / V[0] : 0;
    matched.textContent = 'Matched: ' + percent.toFixed(2) + '% (' + hits + ' frames)';
    clearButton.setAttribute('class', 'c');
  }

  function clearSearch() {
    for (var j = 0; j < n; j++) setState(j, state[j] & ~MATCHED);
    matched.textContent = '';
    clearButton.setAttribute('class', 'c off');
  }

  function frameOf(el) {
    while (el && el.parentNode !== frames) el = el.parentNode;
    return el && typeof el.fwIndex === 'number' ? el.fwIndex : -1;
  }

  frames.addEventListener('click', function (e) {
    var k = frameOf(e.target);
    if (k >= 0) zoom(k);
  });
  frames.addEventListener('mouseover', function (e) {
    var k = frameOf(e.target);
    if (k < 0) return;
    var lines = gs[k].firstElementChild.textContent.split('\n');
    details.textContent = fit(lines.join('  |  '), D.width + 2 * D.margin, D.dcw);
  });
  frames.addEventListener('mouseleave', function () { details.textContent = D.hint; });
  resetButton.addEventListener('click', function () { zoom(0); });
  clearButton.addEventListener('click', clearSearch);
  document.getElementById('search').addEventListener('click', search);
})