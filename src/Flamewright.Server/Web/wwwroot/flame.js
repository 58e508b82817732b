// The flame graph, painted on a canvas at the page's full width and the screen's pixel density (docs/ui.md).
// It lays out the frames under a zoomed node, paints them with labels shortened the way Go names are read, finds
// the frame under the pointer, and moves a keyboard focus between frames. Names are painted as text: nothing a
// frame's name holds can become markup. rectangles() gives what was painted, for the browser tests.

export const ROW = 18;
// Frames narrower than this many pixels are not drawn one by one: each parent's are drawn as one block.
export const MIN_PX = 0.5;
const FONT = '12px system-ui, sans-serif';
const PAD = 3;
// Below this width a frame carries no label at all.
const LABEL_MIN_PX = 18;

// The package of a Go function name: "github.com/a/b.(*T).M" → "github.com/a/b". Type parameters in brackets may
// hold paths of their own, so the search stops at the first bracket or parenthesis.
export function packageOf(name) {
  const line = lineOf(name);
  if (line) return packageOf(line.func);
  const end = firstOf(name, '[(');
  const slash = name.lastIndexOf('/', end - 1);
  const dot = name.indexOf('.', slash + 1);
  return dot > 0 && dot < end ? name.slice(0, dot) : '';
}

function firstOf(text, characters) {
  let end = text.length;
  for (const c of characters) {
    const i = text.indexOf(c);
    if (i >= 0 && i < end) end = i;
  }
  return end;
}

// A line frame's name, as go tool pprof -lines writes it: "main.work /src/app/main.go:42" → its function, file and
// line; null for any other name.
export function lineOf(name) {
  // Most names are functions, with no space at all: no search needed.
  if (!name.includes(' ')) return null;
  const space = name.lastIndexOf(' /') >= 0 ? name.lastIndexOf(' /') : name.search(/ [A-Za-z]:[\\/]/);
  const colon = name.lastIndexOf(':');
  if (space <= 0 || colon < space || !/^\d+$/.test(name.slice(colon + 1))) return null;
  return { func: name.slice(0, space), file: name.slice(space + 1, colon), line: name.slice(colon + 1) };
}

// Labels from longest to shortest: the whole name, then without the package's directories, then without the package.
// The function itself is cut (with an ellipsis) only once no shorter form is left. A line frame loses its file's
// directories first, then the file, keeping its line number.
export function labelForms(name) {
  const line = lineOf(name);
  if (line) {
    const base = line.file.slice(Math.max(line.file.lastIndexOf('/'), line.file.lastIndexOf('\\')) + 1);
    const functions = labelForms(line.func);
    return [name, ...functions.map(f => `${f} ${base}:${line.line}`), `${functions[functions.length - 1]}:${line.line}`];
  }
  const forms = [name];
  const pkg = packageOf(name);
  if (!pkg) return forms;
  const slash = pkg.lastIndexOf('/');
  if (slash >= 0) forms.push(name.slice(slash + 1));
  forms.push(name.slice(pkg.length + 1));
  return forms;
}

// The longest form of name that fits in width pixels, given each character's width by charWidth(c); '' when not even
// "a…" fits. Widths are summed per character (no kerning), which is what lets thousands of frames be labelled in a
// few milliseconds; the label keeps a pixel of slack for it.
export function fitLabel(name, width, charWidth) {
  const room = width - 1;
  const widthOf = text => { let w = 0; for (const c of text) w += charWidth(c); return w; };
  const forms = labelForms(name);
  for (const form of forms) if (widthOf(form) <= room) return form;
  const last = forms[forms.length - 1];
  let used = charWidth('…');
  let end = 0;
  for (const c of last) {
    used += charWidth(c);
    if (used > room) break;
    end += c.length;
  }
  return end ? `${last.slice(0, end)}…` : '';
}

// Colours stable per package: the same package always gets the same warm hue. Kept per name: a graph paints the same
// names again on every zoom, and finding a name's package is the costly part.
const colours = new Map();
export function colourOf(name) {
  let colour = colours.get(name);
  if (colour === undefined) {
    const pkg = packageOf(name) || name;
    let h = 0;
    for (const c of pkg) h = (h * 31 + c.charCodeAt(0)) >>> 0;
    colour = `hsl(${20 + (h % 40)}, ${60 + (h % 25)}%, ${58 + (h % 12)}%)`;
    if (colours.size > 100000) colours.clear();
    colours.set(name, colour);
  }
  return colour;
}

const COLOURS = { root: '#e5e7eb', tiny: '#d1d5db', match: '#a855f7', selected: '#1d4ed8', focus: '#f59e0b', text: '#111', matchText: '#fff' };

// A diff's colour for a change of share in points: red grew, blue shrank, grey about the same (±0.1).
function diffColour(change) {
  const strength = Math.min(1, Math.abs(change) / 10);
  if (change > 0.1) return `rgba(220, 38, 38, ${0.25 + 0.75 * strength})`;
  if (change < -0.1) return `rgba(37, 99, 235, ${0.25 + 0.75 * strength})`;
  return COLOURS.root;
}

export function changeKind(change) { return change > 0.1 ? 'grew' : change < -0.1 ? 'shrank' : 'same'; }

export class FlameGraph {
  // handlers: zoom(frame) when a frame is clicked or Enter pressed on it, back() on Escape, hover(frame, x, y) with
  // page coordinates (frame null when the pointer leaves the frames), focus(frame) when the keyboard moves, and
  // pick(frame) on a right click or the S key: show that function's callers and callees.
  constructor(container, handlers) {
    this.container = container;
    this.handlers = handlers;
    this.canvas = document.createElement('canvas');
    this.canvas.tabIndex = 0;
    this.canvas.setAttribute('role', 'img');
    this.canvas.setAttribute('aria-label', 'Flame graph. Arrow keys move between frames, Enter zooms in, Escape zooms out, S shows the callers and callees of a function.');
    this.context = this.canvas.getContext('2d');
    this.frames = [];
    this.rows = [];
    this.model = null;
    this.focused = null;
    this.widths = new Map();
    this.generation = 0;
    container.replaceChildren(this.canvas);
    this.listen();
  }

  // The graph's width in whole CSS pixels, never more than the container holds (its clientWidth may round up).
  get width() {
    const box = this.container.getBoundingClientRect();
    return Math.max(1, Math.floor(box.width - this.container.clientLeft * 2) || 1000);
  }

  // model: zoom (the node spanning the width), ancestors (drawn above it, full width), span (the value the width
  // stands for), flame (root at the bottom), diff(node) → change in points or null, match(node) → bool, selected
  // (a name or null).
  draw(model) {
    this.model = model;
    this.covered = 0;
    this.layout();
    this.focused = null;
    // After a zoom from the keyboard the focus stays in the graph, on the frame zoomed into.
    if (document.activeElement === this.canvas) this.moveFocus(this.frames.find(f => f.kind !== 'ancestor'));
    else this.paint();
  }

  layout() {
    const { zoom, ancestors, span } = this.model;
    const width = this.width;
    const frames = [];
    ancestors.forEach((node, depth) => frames.push({ node, x: 0, w: width, depth, kind: 'ancestor' }));
    const walk = (node, x, depth, scale) => {
      // The zoomed frame spans the width even when the view shows only a block of its narrower children.
      frames.push({ node, x, w: node === zoom ? width : node.total * scale, depth, kind: node.tiny ? 'tiny' : 'frame' });
      let cx = x;
      let tinyTotal = 0;
      let tinyCount = 0;
      for (const c of node.children) {
        const w = c.total * scale;
        if (c.tiny) {
          if (w >= MIN_PX) frames.push({ node: c, x: cx, w, depth: depth + 1, kind: 'tiny' });
        } else if (w < MIN_PX) {
          tinyTotal += c.total;
          tinyCount++;
          continue;
        } else walk(c, cx, depth + 1, scale);
        cx += w;
      }
      if (tinyCount && tinyTotal * scale >= MIN_PX) {
        const block = { id: `${node.id}~small`, codeSignature: `${tinyCount} small frames`, total: tinyTotal, self: 0, children: [], tiny: true, parent: node };
        frames.push({ node: block, x: cx, w: tinyTotal * scale, depth: depth + 1, kind: 'tiny' });
      }
    };
    if (span > 0) walk(zoom, 0, ancestors.length, width / span);
    else frames.push({ node: zoom, x: 0, w: width, depth: ancestors.length, kind: 'frame' });
    this.frames = frames;
    // A loop, not Math.max(...): a diff's whole tree may lay out more frames than a call takes arguments.
    this.depth = frames.reduce((deepest, f) => Math.max(deepest, f.depth), 0) + 1;
    // Frames of one depth, left to right, for finding the one under a point.
    this.rows = Array.from({ length: this.depth }, () => []);
    for (const f of frames) this.rows[f.depth].push(f);
    for (const row of this.rows) row.sort((a, b) => a.x - b.x);
    this.layoutWidth = width;
  }

  top(f) { return (this.model.flame ? this.depth - 1 - f.depth : f.depth) * ROW; }

  // One character's width in the graph's font, measured once.
  charWidth(c) {
    let w = this.widths.get(c);
    if (w === undefined) {
      this.context.font = FONT;
      w = this.context.measureText(c).width;
      if (this.widths.size > 10000) this.widths.clear();
      this.widths.set(c, w);
    }
    return w;
  }

  label(f) { return f.w >= LABEL_MIN_PX ? fitLabel(f.node.codeSignature, f.w - 2 * PAD, c => this.charWidth(c)) : ''; }

  // The rows the window shows: the canvas sticks to the window's top while the graph scrolls past (style.css), so a
  // graph of hundreds of levels costs what the window shows, not its whole height. At first it covers the part of the
  // graph inside the window; once the page scrolls and the window shows more, it is made as tall as the window, once,
  // rather than a little taller on every scroll event.
  visibleRows() {
    const height = this.depth * ROW;
    const box = this.container.getBoundingClientRect();
    const windowHeight = Math.max(ROW, Math.ceil(window.innerHeight || height));
    const inWindow = Math.min(height, Math.max(ROW, windowHeight - Math.max(0, Math.floor(box.top))));
    // First paint after a draw: what is in the window; later, once more is in the window: the window's height.
    if (!this.covered) this.covered = inWindow;
    else if (inWindow > this.covered) this.covered = Math.min(height, windowHeight);
    const canvasHeight = this.covered;
    const top = Math.round(Math.min(Math.max(0, -box.top), height - canvasHeight));
    return { top, canvasHeight };
  }

  paint() {
    const ratio = window.devicePixelRatio || 1;
    const width = this.layoutWidth;
    const height = this.depth * ROW;
    // Measured before the container's height changes: measuring after would lay the page out a second time.
    const { top, canvasHeight } = this.visibleRows();
    this.container.style.height = `${height}px`;
    const canvas = this.canvas;
    if (canvas.width !== Math.round(width * ratio) || canvas.height !== Math.round(canvasHeight * ratio)) {
      canvas.width = Math.round(width * ratio);
      canvas.height = Math.round(canvasHeight * ratio);
      canvas.style.width = `${width}px`;
      canvas.style.height = `${canvasHeight}px`;
    }
    this.painted = { top, canvasHeight, ratio };
    const ctx = this.context;
    // Drawn in the graph's coordinates, shifted up by the rows above the window.
    ctx.setTransform(ratio, 0, 0, ratio, 0, -top * ratio);
    ctx.clearRect(0, top, width, canvasHeight);
    ctx.font = FONT;
    ctx.textBaseline = 'middle';
    const { model } = this;
    const shown = [];
    for (let row = Math.floor(top / ROW); row < Math.min(this.depth, Math.ceil((top + canvasHeight) / ROW)); row++) {
      shown.push(...this.rows[model.flame ? this.depth - 1 - row : row]);
    }
    // Rectangles are filled one colour at a time (a path per colour): thousands of frames take a few draw calls.
    const paths = new Map();
    for (const f of shown) {
      const key = `${f.kind === 'ancestor' ? 'a' : 'f'}${this.fill(f, this.isMatch(f))}`;
      let path = paths.get(key);
      if (!path) paths.set(key, (path = new Path2D()));
      // A pixel of white between neighbours, when there is room for it.
      path.rect(f.x, this.top(f), f.w > 2 ? f.w - 1 : Math.max(f.w, MIN_PX), ROW - 1);
    }
    for (const [key, path] of paths) {
      ctx.globalAlpha = key[0] === 'a' ? 0.55 : 1;
      ctx.fillStyle = key.slice(1);
      ctx.fill(path);
    }
    ctx.globalAlpha = 1;
    for (const f of shown) {
      const label = this.label(f);
      if (!label) continue;
      ctx.fillStyle = this.isMatch(f) ? COLOURS.matchText : COLOURS.text;
      if (f.kind === 'tiny') ctx.font = `italic ${FONT}`;
      ctx.fillText(label, f.x + PAD, this.top(f) + ROW / 2);
      if (f.kind === 'tiny') ctx.font = FONT;
    }
    if (model.selected) for (const f of shown) if (f.kind !== 'tiny' && f.node.codeSignature === model.selected) this.outline(f, COLOURS.selected);
    if (this.focused) this.outline(this.focused, COLOURS.focus);
    this.generation++;
    canvas.dataset.drawn = String(this.generation);
  }

  // Paints again, once per animation frame at most, when scrolling or a taller window shows other rows.
  schedulePaint() {
    if (this.paintPending || !this.model) return;
    this.paintPending = true;
    requestAnimationFrame(() => {
      this.paintPending = false;
      const { top, canvasHeight } = this.visibleRows();
      if (!this.painted || top !== this.painted.top || canvasHeight !== this.painted.canvasHeight || (window.devicePixelRatio || 1) !== this.painted.ratio) this.paint();
    });
  }

  outline(f, colour) {
    const ctx = this.context;
    ctx.strokeStyle = colour;
    ctx.lineWidth = 2;
    ctx.strokeRect(f.x + 1, this.top(f) + 1, Math.max(f.w - 2, 1), ROW - 3);
  }

  isMatch(f) { return f.kind !== 'tiny' && !!this.model.match && this.model.match(f.node); }

  change(f) {
    if (!this.model.diff || f.kind === 'tiny' || f.node.id === '0') return null;
    return this.model.diff(f.node);
  }

  fill(f, match) {
    if (match) return COLOURS.match;
    if (f.node.id === '0') return COLOURS.root;
    if (f.kind === 'tiny') return COLOURS.tiny;
    const change = this.change(f);
    return change === null ? colourOf(f.node.codeSignature) : diffColour(change);
  }

  // The frame under a point of the canvas (CSS pixels), or null.
  frameAt(x, y) {
    const row = Math.floor(y / ROW);
    if (row < 0 || row >= this.depth) return null;
    const frames = this.rows[this.model.flame ? this.depth - 1 - row : row];
    let low = 0;
    let high = frames.length - 1;
    let found = -1;
    while (low <= high) {
      const mid = (low + high) >> 1;
      if (frames[mid].x <= x) { found = mid; low = mid + 1; } else high = mid - 1;
    }
    // A frame under two pixels wide (a block of narrower frames, often) is a target two pixels wide around its middle,
    // taken before its wider neighbour: otherwise no pointer could land on it.
    for (let i = Math.max(0, found - 1); i <= found + 1 && i < frames.length; i++) {
      const n = frames[i];
      if (n.w < 2 && Math.abs(x - (n.x + n.w / 2)) < 1) return n;
    }
    const f = found >= 0 ? frames[found] : null;
    return f && x < f.x + Math.max(f.w, 1) ? f : null;
  }

  listen() {
    const canvas = this.canvas;
    // Points are taken in the graph's coordinates: from the container's top left, whatever the canvas shows.
    const at = e => {
      const box = this.container.getBoundingClientRect();
      return this.model ? this.frameAt(e.clientX - box.left - this.container.clientLeft, e.clientY - box.top - this.container.clientTop) : null;
    };
    // The pointer is followed over the whole graph: the canvas covers only the rows in the window.
    this.container.addEventListener('click', e => { const f = at(e); if (f) this.handlers.zoom(f); });
    this.container.addEventListener('contextmenu', e => {
      const f = at(e);
      if (!f || f.kind === 'tiny' || !this.handlers.pick) return;
      e.preventDefault();
      this.handlers.pick(f);
    });
    this.container.addEventListener('mousemove', e => {
      const f = at(e);
      this.container.style.cursor = f && f.kind !== 'ancestor' ? 'pointer' : 'default';
      this.handlers.hover(f, e.pageX, e.pageY);
    });
    this.container.addEventListener('mouseleave', () => this.handlers.hover(null));
    // Focus from the keyboard (not from a click) starts on the zoomed frame.
    canvas.addEventListener('focus', () => {
      if (!this.focused && this.model && canvas.matches(':focus-visible')) this.moveFocus(this.frames.find(f => f.kind !== 'ancestor'));
    });
    canvas.addEventListener('blur', () => { this.handlers.hover(null); });
    canvas.addEventListener('keydown', e => this.key(e));
    const onScroll = () => {
      if (!canvas.isConnected) { window.removeEventListener('scroll', onScroll); window.removeEventListener('resize', onScroll); return; }
      this.schedulePaint();
    };
    window.addEventListener('scroll', onScroll, { passive: true });
    window.addEventListener('resize', onScroll);
    const resizes = new ResizeObserver(() => {
      // A graph whose page was left waits for nothing more.
      if (!this.container.isConnected) { resizes.disconnect(); return; }
      if (this.model && this.width !== this.layoutWidth) {
        this.layout();
        this.focused = null;
        this.paint();
        this.handlers.resized?.(this.width);
      }
    });
    resizes.observe(this.container);
  }

  key(e) {
    if (!this.focused && this.model) this.moveFocus(this.frames.find(f => f.kind !== 'ancestor'));
    const f = this.focused;
    if (!f) return;
    const deeper = this.model.flame ? 'ArrowUp' : 'ArrowDown';
    const shallower = this.model.flame ? 'ArrowDown' : 'ArrowUp';
    let next = null;
    if (e.key === 'Enter' || e.key === ' ') { e.preventDefault(); this.handlers.zoom(f); return; }
    if (e.key === 'Escape') { e.preventDefault(); this.handlers.back(); return; }
    if ((e.key === 's' || e.key === 'S') && f.kind !== 'tiny' && this.handlers.pick) { e.preventDefault(); this.handlers.pick(f); return; }
    const row = this.rows[f.depth];
    if (e.key === 'ArrowRight') next = row[row.indexOf(f) + 1];
    else if (e.key === 'ArrowLeft') next = row[row.indexOf(f) - 1];
    else if (e.key === deeper) next = (this.rows[f.depth + 1] || []).find(c => c.x >= f.x - 0.01 && c.x < f.x + f.w);
    else if (e.key === shallower) next = (this.rows[f.depth - 1] || []).find(p => f.x >= p.x - 0.01 && f.x < p.x + Math.max(p.w, 1));
    else if (e.key === 'Home') next = this.frames.find(p => p.kind !== 'ancestor');
    else return;
    e.preventDefault();
    if (next) this.moveFocus(next);
  }

  moveFocus(f) {
    if (!f) return;
    this.focused = f;
    // A frame above or below the window is scrolled into it first.
    const box = this.container.getBoundingClientRect();
    const y = box.top + this.container.clientTop + this.top(f);
    if (y < 0 || y + ROW > window.innerHeight) window.scrollBy(0, y < 0 ? y - ROW : y + 2 * ROW - window.innerHeight);
    this.paint();
    const after = this.container.getBoundingClientRect();
    this.handlers.focus?.(f, after.left + window.scrollX + f.x + Math.min(f.w, 40), after.top + window.scrollY + this.top(f) + ROW);
  }

  // Every frame laid out: its rectangle in CSS pixels from the graph's top left (the container's, whatever part of it
  // the canvas shows), with its marks and label.
  rectangles() {
    return this.frames.map(f => {
      const change = this.change(f);
      return {
        id: f.node.id,
        name: f.node.codeSignature,
        total: f.node.total,
        self: f.node.self,
        label: this.label(f),
        kind: f.kind,
        x: f.x,
        y: this.top(f),
        width: f.w,
        height: ROW - 1,
        match: this.isMatch(f),
        selected: !!this.model.selected && f.kind !== 'tiny' && f.node.codeSignature === this.model.selected,
        focused: f === this.focused,
        change: change === null ? null : changeKind(change),
      };
    });
  }
}
