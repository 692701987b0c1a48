// Rill's browser runtime: renders the page JSON, keeps it in step with the tab's state over one WebSocket, and sends the person's events.
(() => {
  "use strict";

  const ALLOWED_TAGS = new Set(("div span h1 h2 h3 h4 h5 h6 p button input label progress ul ol li " +
    "section header footer main nav a img strong em code pre small hr br " +
    "form fieldset legend textarea select option blockquote del s table thead tbody tr th td dialog").split(" "));
  // `value`, `checked` and `selected` as attributes are a form field's initial state, which a
  // reset goes back to; the live state of a bound control is the property of the same name.
  const ALLOWED_ATTRS = new Set(("id type min max step placeholder href src alt for name title role " +
    "value checked selected rows autocomplete scope tabindex").split(" "));
  const ALLOWED_PROPS = new Set(["value", "checked", "disabled", "hidden", "open"]);
  const ALLOWED_EVENTS = new Set(("click dblclick change input submit keydown keyup focus blur mouseenter mouseleave " +
    "mount unmount close").split(" "));
  const TOKEN_KEY = "rill-token";
  const RESUME_KEY = "rill-resume";
  const OUTBOX_KEY = "rill-outbox";
  // Events kept while they wait for the server's acknowledgement (offline, or on their way).
  const MAX_OUTBOX = 500;
  const MAX_OUTBOX_BYTES = 512 * 1024;
  const MAX_OUTBOX_FULL = "Too many actions are waiting to be sent.";
  const SUPERSEDED = 4001;
  const TOKEN_PATTERN = /^[A-Za-z0-9_-]{8,64}$/;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const TOAST_MS = 5000;
  const MAX_TOASTS = 5;

  // ---- Values and expressions ----

  const isObject = (x) => x !== null && typeof x === "object" && !Array.isArray(x);

  function truthy(v) {
    return !(v === false || v === null || v === undefined || v === 0 || v === "");
  }

  function equal(a, b) {
    if (a === b) return true;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && equal(a[k], b[k]));
  }

  function toText(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "string") return v;
    if (typeof v === "number" || typeof v === "boolean") return String(v);
    return JSON.stringify(v);
  }

  // JSON has no NaN or Infinity, so arithmetic that leaves the finite numbers yields null.
  const finite = (n) => (Number.isFinite(n) ? n : null);
  const isNum = (x) => typeof x === "number";

  function child(v, key) {
    if (Array.isArray(v) && Number.isInteger(key)) return v[key] ?? null;
    if (isObject(v) && typeof key === "string" && Object.prototype.hasOwnProperty.call(v, key)) return v[key];
    return null;
  }

  // While a binding computes, every var path and foreach scope it reads lands here.
  let reading = null;
  let state = {};

  function readVar(path) {
    if (reading) reading.add(path);
    const dot = path.lastIndexOf(".");
    if (dot < 0) return null;
    return child(child(state, path.slice(0, dot)), path.slice(dot + 1));
  }

  function scopeAt(scope, depth) {
    let s = scope;
    for (let i = 0; i < (depth || 0) && s; i++) s = s.parent;
    if (s && reading) reading.add(s);
    return s;
  }

  function evaluate(expr, scope) {
    if (!isObject(expr)) return expr ?? null;
    if ("lit" in expr) return expr.lit ?? null;
    if ("var" in expr) return readVar(String(expr.var));
    if ("item" in expr) {
      const s = scopeAt(scope, expr.depth);
      return s ? (expr.item || []).reduce(child, s.item) : null;
    }
    if ("index" in expr) {
      const s = scopeAt(scope, expr.index);
      return s ? s.index : null;
    }
    if ("op" in expr) return operate(expr.op, expr.args || [], scope);
    complain("not an expression: " + JSON.stringify(expr));
    return null;
  }

  function compare(a, b, holds) {
    return (isNum(a) && isNum(b)) || (typeof a === "string" && typeof b === "string") ? holds(a, b) : false;
  }

  function arithmetic(a, b, f) {
    return isNum(a) && isNum(b) ? finite(f(a, b)) : null;
  }

  function add(a, b) {
    if (typeof a === "string" || typeof b === "string") return toText(a) + toText(b);
    return arithmetic(a, b, (x, y) => x + y);
  }

  function operate(op, args, scope) {
    const arg = (i) => evaluate(args[i], scope);
    switch (op) {
      case "not": return !truthy(arg(0));
      case "and": return args.every((a) => truthy(evaluate(a, scope)));
      case "or": return args.some((a) => truthy(evaluate(a, scope)));
      case "eq": return equal(arg(0), arg(1));
      case "ne": return !equal(arg(0), arg(1));
      case "lt": return compare(arg(0), arg(1), (a, b) => a < b);
      case "le": return compare(arg(0), arg(1), (a, b) => a <= b);
      case "gt": return compare(arg(0), arg(1), (a, b) => a > b);
      case "ge": return compare(arg(0), arg(1), (a, b) => a >= b);
      case "add": return args.length ? args.map((a) => evaluate(a, scope)).reduce(add) : null;
      case "sub": return arithmetic(arg(0), arg(1), (a, b) => a - b);
      case "mul": return arithmetic(arg(0), arg(1), (a, b) => a * b);
      case "div": return arithmetic(arg(0), arg(1), (a, b) => (b === 0 ? null : a / b));
      case "mod": return arithmetic(arg(0), arg(1), (a, b) => (b === 0 ? null : a % b));
      case "neg": { const a = arg(0); return isNum(a) ? -a : null; }
      case "concat": return args.map((a) => toText(evaluate(a, scope))).join("");
      case "cond": return truthy(arg(0)) ? arg(1) : arg(2);
      case "str": return toText(arg(0));
      case "len": { const a = arg(0); return Array.isArray(a) || typeof a === "string" ? a.length : 0; }
      case "get": return child(arg(0), arg(1));
      default:
        complain(`unknown operator '${op}'`);
        return null;
    }
  }

  // ---- Bindings ----
  // A binding recomputes one expression-derived value and writes it to the DOM. It re-learns
  // what it reads on every run, so a branch of a `cond` op that is not taken costs no updates.

  const watchers = new Map(); // var path → Set of bindings
  let nextBindingId = 0;

  function watchersOf(source) {
    if (typeof source !== "string") return source.watchers;
    let set = watchers.get(source);
    if (!set) watchers.set(source, (set = new Set()));
    return set;
  }

  function unwatch(binding) {
    for (const source of binding.sources) {
      const set = watchersOf(source);
      set.delete(binding);
      if (set.size === 0 && typeof source === "string") watchers.delete(source);
    }
    binding.sources = [];
  }

  // `owner` collects cleanups of a subtree so a swapped-out branch or removed item stops updating.
  // With `always`, apply runs even when the value is unchanged (the DOM may have drifted from it).
  function bind(owner, compute, apply, always = false) {
    const binding = { id: nextBindingId++, alive: true, sources: [], ran: false, last: undefined };
    binding.run = () => {
      if (!binding.alive) return;
      unwatch(binding);
      const outer = reading;
      reading = new Set();
      let value;
      try {
        value = compute();
      } finally {
        binding.sources = [...reading];
        reading = outer;
      }
      for (const source of binding.sources) watchersOf(source).add(binding);
      if (binding.ran && !always && equal(value, binding.last)) return;
      binding.ran = true;
      binding.last = value;
      apply(value);
    };
    binding.refresh = () => binding.alive && apply(binding.last);
    owner.push(() => {
      binding.alive = false;
      unwatch(binding);
    });
    binding.run();
    return binding;
  }

  // Parents are bound before their children, so running in id order lets a `cond` or `foreach`
  // drop a subtree before its stale bindings would run.
  function rerun(bindings) {
    [...bindings].sort((a, b) => a.id - b.id).forEach((b) => b.run());
  }

  function dispose(owner) {
    while (owner.length) owner.pop()();
  }

  // ---- Rendering ----
  // Every node renders to a part: a run of sibling DOM nodes from `first` to `last`. Elements,
  // text and charts are one node; `cond` and `foreach` sit between two comment anchors.

  function nodesOf(part) {
    const nodes = [part.first];
    for (let n = part.first; n !== part.last; ) nodes.push((n = n.nextSibling));
    return nodes;
  }

  function mount(part, parent, before) {
    for (const n of nodesOf(part)) parent.insertBefore(n, before);
  }

  function unmount(part) {
    for (const n of nodesOf(part)) n.remove();
  }

  function single(node) {
    return { first: node, last: node };
  }

  function anchors(label) {
    const fragment = document.createDocumentFragment();
    const first = document.createComment(label);
    const last = document.createComment("/" + label);
    fragment.append(first, last);
    return { first, last };
  }

  // A page the Swift side compiled never trips these; they point at a bug in the page JSON.
  function complain(reason) {
    console.error("rill: " + reason);
  }

  function invalid(reason) {
    complain(reason);
    return single(document.createComment("rill: " + reason));
  }

  function render(node, scope, owner) {
    switch (node && node.kind) {
      case "element": return renderElement(node, scope, owner);
      case "text": return renderText(node, scope, owner);
      case "cond": return renderCond(node, scope, owner);
      case "foreach": return renderForeach(node, scope, owner);
      case "chart": return renderChart(node, scope, owner);
      case "nodes": return renderNodes(node, scope, owner);
      default: return invalid(`unknown node kind '${node && node.kind}'`);
    }
  }

  function renderText(node, scope, owner) {
    const text = document.createTextNode("");
    bind(owner, () => toText(evaluate(node.value, scope)), (s) => { text.data = s; });
    return single(text);
  }

  function allowedAttr(name) {
    return ALLOWED_ATTRS.has(name) || /^(aria|data)-[a-z0-9_.-]+$/.test(name);
  }

  function safeUrl(name, text) {
    let url;
    try {
      url = new URL(text, document.baseURI);
    } catch {
      return false;
    }
    if (["http:", "https:", "mailto:", "tel:"].includes(url.protocol)) return true;
    return name === "src" && /^data:image\//i.test(text.trim());
  }

  function setAttr(el, name, v) {
    if (v === null || v === undefined || v === false) return el.removeAttribute(name);
    const text = v === true ? "" : toText(v);
    if ((name === "href" || name === "src") && !safeUrl(name, text)) return el.removeAttribute(name);
    el.setAttribute(name, text);
  }

  function setStyle(el, name, v) {
    if (v === null || v === undefined || v === false) el.style.removeProperty(name);
    else el.style.setProperty(name, toText(v));
  }

  function setProp(el, name, v) {
    if (name === "open" && el.tagName === "DIALOG") {
      // Modal, so the page behind is inert; `rillOpen` tells the close event who closed it.
      el.rillOpen = truthy(v);
      if (el.rillOpen && !el.open) el.showModal();
      else if (!el.rillOpen && el.open) el.close();
    } else if (name !== "value") {
      const on = truthy(v);
      if (el[name] !== on) el[name] = on;
    } else if (el.tagName === "PROGRESS" && !isNum(v)) {
      el.removeAttribute("value"); // an indeterminate bar
    } else {
      const text = toText(v);
      if (el.value !== text) el.value = text;
    }
  }

  // The edit records of inputs whose value or checked state follows a var. When the server
  // refuses an event or re-hydrates, echoes it owed will not come, so each control shows the state.
  const edits = new Set();
  let holdEdits = false; // set while a hydrate lands with events still in the outbox
  const CONTROL_TAGS = new Set(["input", "textarea", "select"]);

  function resyncControls() {
    for (const edit of edits) {
      edit.sent.length = 0;
      for (const binding of edit.controls) binding.refresh();
    }
  }

  function renderElement(node, scope, owner) {
    if (!ALLOWED_TAGS.has(node.tag)) return invalid(`tag '${node.tag}' is not allowed`);
    const el = document.createElement(node.tag);
    if (node.class) el.className = node.class;

    for (const [name, value] of Object.entries(node.attrs || {})) {
      if (!allowedAttr(name)) { complain(`attribute '${name}' is not allowed`); continue; }
      bind(owner, () => evaluate(value, scope), (v) => setAttr(el, name, v));
    }
    for (const [name, value] of Object.entries(node.style || {})) {
      bind(owner, () => evaluate(value, scope), (v) => setStyle(el, name, v));
    }

    // Registered before the handlers, so an event sent from the same DOM event clears the mark.
    const edit = CONTROL_TAGS.has(node.tag) ? trackEdits(el) : null;
    for (const [domEvent, handler] of Object.entries(node.on || {})) {
      listen(el, domEvent, handler, scope, owner, edit);
    }

    // Children first: a list's value can only be set once its options are there.
    for (const c of node.children || []) mount(render(c, scope, owner), el, null);

    for (const [name, value] of Object.entries(node.props || {})) {
      if (!ALLOWED_PROPS.has(name)) { complain(`property '${name}' is not allowed`); continue; }
      if (edit && (name === "value" || name === "checked")) bindControl(el, name, value, scope, owner, edit);
      else bind(owner, () => evaluate(value, scope), (v) => setProp(el, name, v));
    }
    return single(el);
  }

  // Guards what a person types against the state catching up late. `dirty`: changed since the
  // last event carrying the value was sent. `sent`: values sent whose echo has not come back yet;
  // while later ones are on their way, an earlier echo is stale (typing "ab" must not flash "a").
  // `missed`: the state changed while the person was typing and was not written then.
  function trackEdits(el) {
    const edit = { el, dirty: false, missed: false, sent: [], controls: [], flushes: new Set() };
    el.addEventListener("input", () => { edit.dirty = true; });
    el.addEventListener("blur", () => {
      for (const flush of edit.flushes) flush();
      edit.dirty = false;
      // What the person left in the field stays (a cleared or half-typed number too), unless the
      // state moved on meanwhile: then, with nothing on its way, the field shows the state.
      if (edit.missed && edit.sent.length === 0) for (const binding of edit.controls) binding.refresh();
      edit.missed = false;
    });
    return edit;
  }

  const MAX_UNECHOED = 32;

  function noteSent(edit, value) {
    edit.dirty = false;
    edit.sent.push(toText(value));
    if (edit.sent.length > MAX_UNECHOED) edit.sent.shift();
  }

  function bindControl(el, name, value, scope, owner, edit) {
    const binding = bind(owner, () => evaluate(value, scope), (v) => {
      const echo = edit.sent.indexOf(toText(v));
      // A value this field never sent is the server's own word and ends the run of echoes.
      if (holdEdits && edit.sent.length > 0) return; // its own values are on their way again
      edit.sent.splice(0, echo >= 0 ? echo + 1 : edit.sent.length);
      if (edit.sent.length > 0) return;
      if (edit.dirty && document.activeElement === el) { edit.missed = true; return; } // written on blur
      el.removeAttribute("aria-invalid");
      setProp(el, name, v);
    }, true);
    edit.controls.push(binding);
    edits.add(edit);
    owner.push(() => edits.delete(edit));
    // Options that arrive or change later (from a var) would leave the list showing the wrong one.
    if (el.tagName === "SELECT") {
      const observer = new MutationObserver(() => binding.refresh());
      observer.observe(el, { childList: true, subtree: true });
      owner.push(() => observer.disconnect());
    }
  }

  // Nodes the server computed into the state (parsed Markdown): rendered like the page's own,
  // but never with event handlers, as a state's value is no place for them.
  function renderNodes(node, scope, owner) {
    const range = anchors("rill-nodes");
    let inner = [];
    bind(owner, () => evaluate(node.value, scope), (nodes) => {
      dispose(inner);
      const parent = range.last.parentNode;
      while (range.first.nextSibling !== range.last) range.first.nextSibling.remove();
      for (const child of Array.isArray(nodes) ? nodes : []) {
        if (isObject(child)) mount(render(inert(child), scope, inner), parent, range.last);
      }
    });
    owner.push(() => dispose(inner));
    return range;
  }

  function inert(node) {
    if (!isObject(node)) return node;
    const copy = { ...node };
    delete copy.on;
    for (const key of ["children", "then", "else", "item"]) {
      if (Array.isArray(copy[key])) copy[key] = copy[key].map(inert);
      else if (isObject(copy[key])) copy[key] = inert(copy[key]);
    }
    return copy;
  }

  function renderCond(node, scope, owner) {
    const range = anchors("rill-cond");
    let branch = [];
    bind(owner, () => truthy(evaluate(node.test, scope)), (holds) => {
      dispose(branch);
      const parent = range.last.parentNode;
      while (range.first.nextSibling !== range.last) range.first.nextSibling.remove();
      const chosen = holds ? node.then : node.else;
      if (chosen) mount(render(chosen, scope, branch), parent, range.last);
    });
    owner.push(() => dispose(branch));
    return range;
  }

  function identity(item, index, key, taken) {
    const id = key != null && isObject(item) && key in item ? "k" + JSON.stringify(item[key]) : "i" + index;
    return taken.has(id) ? `${id}#${index}` : id;
  }

  function renderForeach(node, scope, owner) {
    const range = anchors("rill-foreach");
    let instances = new Map(); // identity → { owner, scope, part }
    bind(owner, () => evaluate(node.each, scope), (list) => {
      const next = new Map();
      const stale = [];
      (Array.isArray(list) ? list : []).forEach((item, index) => {
        const id = identity(item, index, node.key, next);
        let instance = instances.get(id);
        if (instance) {
          instances.delete(id);
          if (instance.scope.index !== index || !equal(instance.scope.item, item)) {
            instance.scope.item = item;
            instance.scope.index = index;
            stale.push(instance);
          }
        } else {
          const itemScope = { item, index, parent: scope, watchers: new Set() };
          const itemOwner = [];
          instance = { owner: itemOwner, scope: itemScope, part: render(node.item, itemScope, itemOwner) };
        }
        next.set(id, instance);
      });
      for (const gone of instances.values()) {
        unmount(gone.part);
        dispose(gone.owner);
      }
      instances = next;

      const parent = range.last.parentNode;
      let cursor = range.first.nextSibling;
      for (const instance of next.values()) {
        if (instance.part.first === cursor) cursor = instance.part.last.nextSibling;
        else mount(instance.part, parent, cursor);
      }
      for (const instance of stale) rerun(instance.scope.watchers);
    });
    owner.push(() => { for (const instance of instances.values()) dispose(instance.owner); });
    return range;
  }

  function renderChart(node, scope, owner) {
    const svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("role", "img");
    bind(owner, () => ({
      data: evaluate(node.data, scope),
      width: evaluate(node.width, scope),
      height: evaluate(node.height, scope),
      color: evaluate(node.color, scope),
    }), (chart) => drawChart(svg, node, chart));
    return single(svg);
  }

  function svgChild(parent, tag, attrs) {
    const el = document.createElementNS(SVG_NS, tag);
    for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, String(value));
    parent.append(el);
    return el;
  }

  const round = (n) => Math.round(n * 100) / 100;

  function drawChart(svg, node, { data, width, height, color }) {
    const w = isNum(width) && width > 0 ? width : 300;
    const h = isNum(height) && height > 0 ? height : 150;
    svg.setAttribute("width", String(w));
    svg.setAttribute("height", String(h));
    svg.setAttribute("viewBox", `0 0 ${w} ${h}`);
    svg.replaceChildren();

    const rows = Array.isArray(data) ? data : [];
    const ys = rows.map((d) => (isNum(d) ? d : child(d, node.y)));
    const xs = rows.map((d) => child(d, node.x));
    const useX = node.x != null && xs.every(isNum);
    const points = rows
      .map((_, i) => ({ x: useX ? xs[i] : i, y: ys[i] }))
      .filter((p) => isNum(p.y) && Number.isFinite(p.y));
    if (points.length === 0) return;
    const paint = typeof color === "string" && color ? color : "currentColor";

    if (node.chartKind === "bar") {
      const low = Math.min(0, ...points.map((p) => p.y));
      const high = Math.max(0, ...points.map((p) => p.y));
      const span = high - low || 1;
      const y = (v) => h - ((v - low) / span) * h;
      const slot = w / points.length;
      const gap = Math.min(slot * 0.2, 8);
      points.forEach((p, i) => {
        const top = y(Math.max(p.y, 0));
        svgChild(svg, "rect", {
          x: round(i * slot + gap / 2), y: round(top),
          width: round(Math.max(slot - gap, 1)), height: round(Math.abs(y(p.y) - y(0))),
          rx: Math.min(3, (slot - gap) / 4), fill: paint,
        });
      });
      return;
    }

    // Line: inset by the stroke so the line's caps are not clipped at the edges.
    const inset = 3;
    const minX = Math.min(...points.map((p) => p.x)), maxX = Math.max(...points.map((p) => p.x));
    const minY = Math.min(...points.map((p) => p.y)), maxY = Math.max(...points.map((p) => p.y));
    const sx = (v) => (maxX === minX ? w / 2 : inset + ((v - minX) / (maxX - minX)) * (w - 2 * inset));
    const sy = (v) => (maxY === minY ? h / 2 : h - inset - ((v - minY) / (maxY - minY)) * (h - 2 * inset));
    if (points.length === 1) {
      svgChild(svg, "circle", { cx: round(sx(points[0].x)), cy: round(sy(points[0].y)), r: inset, fill: paint });
      return;
    }
    svgChild(svg, "polyline", {
      points: points.map((p) => `${round(sx(p.x))},${round(sy(p.y))}`).join(" "),
      fill: "none", stroke: paint, "stroke-width": 2, "stroke-linejoin": "round", "stroke-linecap": "round",
    });
  }

  // ---- Events ----

  function convert(raw, valueType) {
    switch (valueType) {
      case "int":
      case "double": {
        const text = typeof raw === "string" ? raw.trim() : "";
        const n = Number(text);
        if (text === "" || !Number.isFinite(n)) return undefined;
        return valueType === "int" && !Number.isSafeInteger(n) ? undefined : n;
      }
      case "bool":
        if (typeof raw === "boolean") return raw;
        return raw === "true" ? true : raw === "false" ? false : undefined;
      case "string":
        return String(raw);
      default:
        return raw;
    }
  }

  function elementValue(el, valueType) {
    if (valueType === "form") return formValues(el);
    if (el.validity && el.validity.badInput) return undefined; // e.g. "1e" typed into a number input
    // A control's value; for any other element (a trigger on a `span`), its text.
    const raw = el.type === "checkbox" ? el.checked : "value" in el ? el.value : el.textContent;
    return convert(raw, valueType);
  }

  // A form's named fields, each as its control's type says (`data-rill-type`): an empty or
  // unreadable number is null, a radio group is the chosen value or null.
  function formValues(form) {
    const values = {};
    for (const el of form.elements) {
      // Only the form's own fields: a bound control inside it keeps its own events.
      const type = el.getAttribute("data-rill-type");
      if (!el.name || !type) continue;
      if (type === "radio") {
        if (el.checked) values[el.name] = el.value;
        else if (!(el.name in values)) values[el.name] = null;
      } else if (type === "bool") {
        values[el.name] = el.checked;
      } else if (type === "int" || type === "double") {
        const n = el.validity && el.validity.badInput ? undefined : convert(el.value, type);
        values[el.name] = n === undefined ? null : n;
      } else {
        values[el.name] = el.value;
      }
    }
    return values;
  }

  // Numbers controls, so the events of one control can be told from another's.
  const controlKeys = new WeakMap();
  let nextControlKey = 0;

  // An outgoing event (`body`, and `text`, its JSON), or null when the element's value does not
  // convert and nothing is sent. An event that carries a control's value has a `key`: a newer
  // value of the same control may replace it while it waits unsent.
  function eventMessage(handler, el, scope) {
    const payload = {};
    for (const [name, expr] of Object.entries(handler.payload || {})) payload[name] = evaluate(expr, scope);
    if (handler.field) {
      const value = elementValue(el, handler.valueType);
      if (value === undefined) return null;
      payload[handler.field] = value;
    }
    const body = { type: "event", name: handler.event, payload };
    const text = JSON.stringify(body);
    if (!handler.field || handler.valueType === "form") return { body, text };
    if (!controlKeys.has(el)) controlKeys.set(el, ++nextControlKey);
    return { body, text, value: payload[handler.field], key: `${controlKeys.get(el)}:${handler.event}` };
  }

  // `domEvent` may name a key after a colon: `keydown:Enter` listens for Enter only.
  function listen(el, trigger, handler, scope, owner, edit) {
    const colon = trigger.indexOf(":");
    const domEvent = colon < 0 ? trigger : trigger.slice(0, colon);
    const key = colon < 0 ? null : trigger.slice(colon + 1);
    if (!ALLOWED_EVENTS.has(domEvent) || (key !== null && !domEvent.startsWith("key"))) {
      complain(`event '${trigger}' is not allowed`);
      return;
    }
    if (!isObject(handler) || (typeof handler.event !== "string" && !Array.isArray(handler.client))) {
      complain(`the '${trigger}' handler names no event and no client action`);
      return;
    }
    if (domEvent === "mount" || domEvent === "unmount") return listenMount(el, domEvent, handler, scope, owner);
    const timed = (ms) => (domEvent !== "submit" && isNum(ms) && ms > 0 ? ms : 0);
    const debounce = timed(handler.debounce);
    const throttle = timed(handler.throttle);
    const isForm = el.tagName === "FORM" && domEvent === "submit";
    // An input has no submit event of its own: for it, submitting is pressing Enter.
    const enterSubmits = domEvent === "submit" && el.tagName === "INPUT";
    let timer = 0;
    let pending = null;
    let lastSent = null;
    let lastTime = -Infinity;
    const sendNow = (message) => {
      lastSent = message.text;
      lastTime = performance.now();
      sentByElement.set(el, message.text);
      return send(message, edit);
    };
    const flush = () => {
      clearTimeout(timer);
      const message = pending;
      pending = null;
      if (message) sendNow(message);
    };
    // A value that does not convert is not sent; the field says so instead of being reverted.
    const valueMessage = () => {
      const message = eventMessage(handler, el, scope);
      if (handler.field) {
        if (message) el.removeAttribute("aria-invalid");
        else el.setAttribute("aria-invalid", "true");
      }
      return message;
    };
    el.addEventListener(enterSubmits ? "keydown" : domEvent, (event) => {
      if (enterSubmits && (event.key !== "Enter" || event.isComposing)) return;
      if (domEvent.startsWith("key") && (event.isComposing || (key !== null && event.key !== key))) return;
      if (domEvent === "submit") event.preventDefault();
      if (isForm) return submitForm(el, handler, scope, sendNow);
      if (domEvent === "close" && el.rillOpen === false) return; // closed by the state, not the person
      if (Array.isArray(handler.client)) runClient(handler.client);
      if (typeof handler.event !== "string") return;
      // The text typed so far goes out before the submit that relies on it.
      if (enterSubmits && edit) for (const f of edit.flushes) f();
      const message = valueMessage();
      if (throttle) {
        // Dragging: at most one send per interval, and the latest value once it has passed.
        clearTimeout(timer);
        const wait = lastTime + throttle - performance.now();
        if (wait <= 0) {
          if (message) sendNow(message);
        } else {
          timer = setTimeout(() => {
            const latest = valueMessage();
            if (latest && latest.text !== sentByElement.get(el)) sendNow(latest);
          }, wait);
        }
      } else if (debounce) {
        // The latest value wins: a half-typed value cancels the valid one before it.
        pending = message;
        clearTimeout(timer);
        timer = setTimeout(flush, debounce);
      } else if (message) {
        sendNow(message);
      }
    });
    // Autofill, some IMEs and scripted edits change a value without an input event; the change
    // event that ends the edit commits it, unless that exact value already went out.
    if (domEvent === "input" && handler.field && !throttle) {
      el.addEventListener("change", () => {
        const message = valueMessage();
        clearTimeout(timer);
        pending = null;
        if (message && message.text !== lastSent) sendNow(message);
      });
    }
    if (debounce) {
      if (edit) edit.flushes.add(flush);
      owner.push(() => clearTimeout(timer));
    }
    if (throttle) owner.push(() => clearTimeout(timer));
  }

  // Mount and unmount events go through the outbox like any other: one from the first render
  // waits there for the socket.
  function listenMount(el, domEvent, handler, scope, owner) {
    if (Array.isArray(handler.client)) {
      if (domEvent === "unmount") owner.push(() => runClient(handler.client));
      else queueMicrotask(() => runClient(handler.client));
    }
    if (typeof handler.event !== "string") return;
    const message = () => eventMessage(handler, el, scope);
    if (domEvent === "unmount") {
      owner.push(() => { const m = message(); if (m) send(m); });
    } else {
      queueMicrotask(() => { const m = el.isConnected ? message() : null; if (m) send(m); });
    }
  }

  // ---- Client actions ----
  // Steps a trigger runs in the page itself. Each names an element by id; a missing one is
  // skipped. An attribute is set only if a page may carry it, through the same checks.

  function runClient(steps) {
    for (const step of steps) {
      if (!isObject(step) || typeof step.id !== "string") continue;
      const el = document.getElementById(step.id);
      if (!el) continue;
      const name = typeof step.name === "string" ? step.name : "";
      try {
        switch (step.op) {
          case "show": el.hidden = false; break;
          case "hide": el.hidden = true; break;
          case "toggle": el.hidden = !el.hidden; break;
          case "add_class": el.classList.add(step.class); break;
          case "remove_class": el.classList.remove(step.class); break;
          case "toggle_class": el.classList.toggle(step.class); break;
          case "set_attr":
            if (allowedAttr(name)) setAttr(el, name, typeof step.value === "string" ? step.value : null);
            else complain(`attribute '${name}' is not allowed`);
            break;
          case "remove_attr": if (allowedAttr(name)) el.removeAttribute(name); break;
          case "focus": el.focus(); break;
          case "open_dialog": if (el.tagName === "DIALOG" && !el.open) el.showModal(); break;
          case "close_dialog": if (el.tagName === "DIALOG" && el.open) el.close(); break;
          default: complain(`client action '${step.op}' is not known`);
        }
      } catch (error) {
        console.error("rill: client action failed:", step.op, error);
      }
    }
  }

  // What each control last sent, so a late throttled send does not repeat its final value.
  const sentByElement = new WeakMap();

  // ---- Forms ----

  const pendingForms = new Map(); // event id → form

  function submitForm(form, handler, scope, sendNow) {
    if ([...pendingForms.values()].includes(form)) return; // a second Enter while the first runs
    clearFieldErrors(form);
    const message = eventMessage(handler, form, scope);
    const id = message ? sendNow(message) : 0;
    if (!id) return;
    pendingForms.set(id, form);
    const body = form.querySelector(":scope > fieldset");
    form.rillFocus = form.contains(document.activeElement) ? document.activeElement : null;
    form.setAttribute("aria-busy", "true");
    if (body) body.disabled = true;
  }

  // The server finished the form's event: `error` is the error message when it failed, or
  // "lost" when its event will not be answered (the tab got a token of its own).
  function formDone(id, error) {
    const form = pendingForms.get(id);
    if (!form) return false;
    pendingForms.delete(id);
    const body = form.querySelector(":scope > fieldset");
    if (body) body.disabled = false;
    form.removeAttribute("aria-busy");
    if (error === "lost") return true;
    if (!error) {
      if (form.hasAttribute("data-rill-reset")) form.reset();
      if (form.rillFocus && document.activeElement === document.body) form.rillFocus.focus();
      return true;
    }
    const unshown = showFieldErrors(form, isObject(error.fields) ? error.fields : {});
    if (unshown.length || !isObject(error.fields)) showToast(unshown.length ? unshown.join("; ") : toText(error.message) || "Something went wrong.");
    return true;
  }

  function fieldOf(form, name) {
    const item = form.elements.namedItem(name);
    if (!item) return null;
    return item instanceof RadioNodeList ? item[0] : item;
  }

  let nextErrorId = 0;

  // Shows each message after its field; returns the ones whose field is not in the form.
  function showFieldErrors(form, fields) {
    const unshown = [];
    let first = null;
    for (const [name, text] of Object.entries(fields)) {
      const el = fieldOf(form, name);
      if (!el) { unshown.push(`${name}: ${toText(text)}`); continue; }
      const note = document.createElement("small");
      note.className = "rill-field-error";
      note.id = `rill-error-${++nextErrorId}`;
      note.textContent = toText(text);
      const place = el.type === "radio" ? el.closest(".rill-radio-group") : el.closest(".rill-field, .rill-checkbox, .rill-switch");
      (place || el).after(note);
      const group = el.type === "radio" ? [...form.elements.namedItem(name)] : [el];
      for (const member of group) {
        member.setAttribute("aria-invalid", "true");
        member.setAttribute("aria-describedby", note.id);
        member.addEventListener("input", () => clearFieldError(form, name), { once: true });
        member.addEventListener("change", () => clearFieldError(form, name), { once: true });
      }
      first = first || el;
    }
    if (first) first.focus();
    return unshown;
  }

  function clearFieldError(form, name) {
    const item = form.elements.namedItem(name);
    if (!item) return;
    for (const el of item instanceof RadioNodeList ? [...item] : [item]) {
      const note = el.getAttribute("aria-describedby") && document.getElementById(el.getAttribute("aria-describedby"));
      if (note) note.remove();
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    }
  }

  function clearFieldErrors(form) {
    for (const note of form.querySelectorAll(".rill-field-error")) note.remove();
    for (const el of form.elements) {
      if (!el.hasAttribute("aria-describedby")) continue;
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
    }
  }

  // A tab given a token of its own drops the outbox: its forms are usable again.
  function releaseForms() {
    for (const id of [...pendingForms.keys()]) formDone(id, "lost");
  }

  // ---- Toasts and the banner ----

  const toasts = new Map(); // text → { node, timer }
  let toastBox = null;
  let banner = null;

  function hideToast(text) {
    const toast = toasts.get(text);
    if (!toast) return;
    clearTimeout(toast.timer);
    toast.node.remove();
    toasts.delete(text);
  }

  // A message already showing is kept up longer instead of stacking a copy. `kind` is
  // "error" (the runtime's own messages), "info" or "success".
  function showToast(text, kind = "error") {
    if (!toastBox) {
      toastBox = document.createElement("div");
      toastBox.className = "rill-toasts";
      toastBox.setAttribute("role", "status");
      toastBox.setAttribute("aria-live", "polite");
      document.body.append(toastBox);
    }
    let toast = toasts.get(text);
    if (!toast) {
      const node = document.createElement("div");
      node.className = "rill-toast rill-toast-" + kind;
      node.textContent = text;
      node.addEventListener("click", () => hideToast(text));
      toastBox.append(node);
      toast = { node, timer: 0 };
      toasts.set(text, toast);
      if (toasts.size > MAX_TOASTS) hideToast(toasts.keys().next().value);
    }
    clearTimeout(toast.timer);
    toast.timer = setTimeout(() => hideToast(text), TOAST_MS);
  }

  // ---- Commands from the server ----

  // Runs what handlers asked the page to do, after the state they changed is shown. Each is
  // data checked here again: a redirect goes only to this site's paths or to http(s) URLs.
  function runCommands(commands) {
    if (!Array.isArray(commands)) return;
    for (const command of commands) {
      if (!isObject(command)) continue;
      try {
        runCommand(command);
      } catch (error) {
        console.error("rill: command failed:", command.command, error);
      }
    }
  }

  function runCommand(command) {
    const text = (key) => (typeof command[key] === "string" ? command[key] : null);
    switch (command.command) {
      case "redirect": {
        const to = text("to");
        const url = to === null ? null : redirectTarget(to);
        if (!url) console.error("rill: redirect refused:", to);
        else if (new URL(url).origin === location.origin) navigateTo(new URL(url), true);
        else location.assign(url);
        break;
      }
      case "toast": {
        const kind = ["info", "success", "error"].includes(command.kind) ? command.kind : "info";
        if (text("message")) showToast(text("message"), kind);
        break;
      }
      case "focus": {
        const el = text("id") && document.getElementById(text("id"));
        if (el) el.focus();
        else console.error("rill: focus: no element with id", text("id"));
        break;
      }
      case "scroll_to": {
        const el = text("id") && document.getElementById(text("id"));
        if (el) el.scrollIntoView({ block: "nearest" });
        else console.error("rill: scroll_to: no element with id", text("id"));
        break;
      }
      case "download":
        download(text("base64") || "", text("filename") || "download", text("mime") || "application/octet-stream");
        break;
      case "set_clipboard":
        copy(text("text") || "");
        break;
      case "set_title":
        if (text("title") !== null) document.title = text("title");
        break;
      default:
        console.error("rill: unknown command", command.command);
    }
  }

  function redirectTarget(to) {
    let url;
    try {
      url = new URL(to, location.href);
    } catch {
      return null;
    }
    if (to.startsWith("/")) return url.origin === location.origin ? url.href : null;
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  }

  function download(base64, filename, mime) {
    const binary = atob(base64);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    const href = URL.createObjectURL(new Blob([bytes], { type: mime }));
    const link = document.createElement("a");
    link.href = href;
    link.download = filename;
    link.hidden = true;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(href), 60000);
  }

  // The async clipboard needs a secure context and focus; the older copy command covers the rest.
  function copy(value) {
    const fallback = () => {
      const area = document.createElement("textarea");
      area.value = value;
      area.setAttribute("readonly", "");
      area.className = "rill-offscreen";
      document.body.append(area);
      area.select();
      const done = document.execCommand("copy");
      area.remove();
      if (!done) console.error("rill: the browser refused to write the clipboard");
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(value).catch(fallback);
    } else {
      fallback();
    }
  }

  // ---- Moving between the app's pages ----
  // A link to another page of the app swaps the page in place: the tab keeps its socket and
  // state, the server is told the new path (which runs the page's onLoad), and history gets an
  // entry so back and forward work. Anything else loads as usual.

  let loadPending = true; // the server has not been told of this page load yet
  let rootOwner = [];
  let shownPath = location.pathname + location.search;
  let navigation = null; // the fetch of the page being moved to

  function appLink(event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return null;
    const link = event.target instanceof Element ? event.target.closest("a[href]") : null;
    if (!link || !document.getElementById("rill-root").contains(link)) return null;
    if ((link.target && link.target !== "_self") || link.hasAttribute("download")) return null;
    const url = new URL(link.href, location.href);
    if (url.origin !== location.origin || url.pathname.startsWith("/_rill/")) return null;
    return url;
  }

  async function navigateTo(url, push) {
    const path = url.pathname + url.search;
    if (path === shownPath) {
      if (push && url.hash !== location.hash) history.pushState(null, "", url.href);
      if (url.hash) document.getElementById(decodeURIComponent(url.hash.slice(1)))?.scrollIntoView();
      return;
    }
    if (navigation) navigation.abort();
    const controller = (navigation = new AbortController());
    const timer = setTimeout(() => controller.abort(), 10000);
    let next;
    try {
      const response = await fetch("/_rill/page?" + new URLSearchParams({ path }), { signal: controller.signal, credentials: "same-origin" });
      if (!response.ok) throw new Error(`status ${response.status}`);
      const answer = await response.json();
      if (isObject(answer) && answer.load === true) throw new Error("not a page of the app"); // a route or a file
      next = isObject(answer) ? answer.page : null;
      if (!isObject(next) || !isObject(next.root)) throw new Error("not a page");
    } catch (error) {
      if (controller.signal.aborted && navigation !== controller) return; // a later navigation won
      location.assign(url.href); // a plain route, or the server is unreachable: load it
      return;
    } finally {
      clearTimeout(timer);
      if (navigation === controller) navigation = null;
    }
    if (push) history.pushState(null, "", url.href);
    showPage(next);
    shownPath = path;
    if (connected && socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "navigate", path }));
    } else {
      loadPending = true; // the next connection tells the server
    }
    if (url.hash) document.getElementById(decodeURIComponent(url.hash.slice(1)))?.scrollIntoView();
    else window.scrollTo(0, 0);
  }

  function showPage(next) {
    page = next;
    document.title = typeof page.title === "string" ? page.title : "";
    // States this tab has not been sent yet (it is not connected) start from the page's defaults.
    if (isObject(page.initial)) for (const [name, values] of Object.entries(page.initial)) if (!(name in state)) state[name] = values;
    const root = document.getElementById("rill-root");
    dispose(rootOwner);
    rootOwner = [];
    root.replaceChildren();
    mount(render(page.root, null, rootOwner), root, null);
  }

  // Arrow keys, Home and End move between the tabs of a tab list and select the one reached.
  function watchTabLists() {
    document.addEventListener("keydown", (event) => {
      const tab = event.target instanceof Element ? event.target.closest('[role="tab"]') : null;
      const list = tab && tab.closest('[role="tablist"]');
      if (!list || !["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) return;
      const tabs = [...list.querySelectorAll('[role="tab"]')];
      const index = tabs.indexOf(tab);
      const next = { ArrowLeft: index - 1, ArrowRight: index + 1, Home: 0, End: tabs.length - 1 }[event.key];
      const target = tabs[(next + tabs.length) % tabs.length];
      event.preventDefault();
      target.focus();
      target.click();
    });
  }

  function watchLinks() {
    document.addEventListener("click", (event) => {
      const url = appLink(event);
      if (!url) return;
      event.preventDefault();
      navigateTo(url, true);
    });
    addEventListener("popstate", () => navigateTo(new URL(location.href), false));
  }

  // Shows `text` in the connection banner, or hides it for null.
  function showBanner(text) {
    if (!banner) {
      if (text === null) return;
      banner = document.createElement("div");
      banner.className = "rill-banner";
      banner.setAttribute("role", "status");
      document.body.append(banner);
    }
    if (text !== null) banner.textContent = text;
    banner.hidden = text === null;
  }

  // ---- The tab token ----

  function newToken() {
    if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  // sessionStorage can be unavailable (privacy modes); the token then lives as long as the page.
  function stored(key, value) {
    try {
      if (value === undefined) return sessionStorage.getItem(key);
      if (value === null) sessionStorage.removeItem(key);
      else sessionStorage.setItem(key, value);
    } catch {}
    return value;
  }

  function loadToken() {
    const saved = stored(TOKEN_KEY);
    return saved && TOKEN_PATTERN.test(saved) ? saved : stored(TOKEN_KEY, newToken());
  }

  // A page leaving marks its token as resumable, so the next page of the same tab (a reload, a
  // link) takes the token over even if its old socket still looks open to the server. The mark is
  // consumed at once: a tab duplicated later copies sessionStorage without it and is told apart.
  function takeResumeMark() {
    const mark = stored(RESUME_KEY);
    stored(RESUME_KEY, null);
    return mark !== null && mark === token;
  }

  // ---- State and the socket ----

  function changed(paths) {
    const due = new Set();
    for (const path of paths) for (const binding of watchers.get(path) || []) due.add(binding);
    rerun(due);
  }

  function replaceState(next) {
    const paths = new Set();
    for (const name of new Set([...Object.keys(state), ...Object.keys(next)])) {
      const before = isObject(state[name]) ? state[name] : {};
      const after = isObject(next[name]) ? next[name] : {};
      for (const v of new Set([...Object.keys(before), ...Object.keys(after)])) {
        if (!equal(before[v], after[v])) paths.add(`${name}.${v}`);
      }
    }
    state = next;
    changed(paths);
  }

  function applyDelta(delta) {
    const paths = new Set();
    for (const [name, vars] of Object.entries(delta)) {
      if (!isObject(vars)) continue;
      const target = isObject(state[name]) ? state[name] : (state[name] = {});
      for (const [v, value] of Object.entries(vars)) {
        if (equal(target[v], value)) continue;
        target[v] = value;
        paths.add(`${name}.${v}`);
      }
    }
    changed(paths);
    if (storageSent) for (const binding of storage) if (paths.has(binding.var)) persist(binding);
  }

  // ---- Vars kept in the browser ----
  // On the first connection of a page load the page sends what it has stored; after that,
  // every change of such a var is stored again. Until the server has the stored values, the
  // state's defaults are not written over them.

  let storage = [];
  let storageSent = false;

  function valueAt(path) {
    const dot = path.lastIndexOf(".");
    const owner = state[path.slice(0, dot)];
    return isObject(owner) ? owner[path.slice(dot + 1)] : undefined;
  }

  function storedValue(binding) {
    let text = null;
    try {
      if (binding.place === "local") {
        text = localStorage.getItem(binding.key);
      } else {
        const prefix = binding.key + "=";
        const cookie = document.cookie.split("; ").find((c) => c.startsWith(prefix));
        text = cookie ? decodeURIComponent(cookie.slice(prefix.length)) : null;
      }
      return text === null ? undefined : JSON.parse(text);
    } catch {
      return undefined; // unreadable: the state's value stands, and is stored at its next change
    }
  }

  function persist(binding) {
    const value = valueAt(binding.var);
    if (value === undefined) return;
    const text = JSON.stringify(value);
    const bytes = new TextEncoder().encode(text).length;
    // A cookie's value is URI-encoded, and a browser drops a cookie past about 4 KiB.
    if (bytes > binding.max || (binding.place === "cookie" && encodeURIComponent(text).length > 4000)) {
      console.warn(`rill: ${binding.var} is too large to keep in the browser (${bytes} bytes; the most is ${binding.max})`);
      return;
    }
    try {
      if (binding.place === "local") {
        localStorage.setItem(binding.key, text);
      } else {
        const secure = location.protocol === "https:" ? "; Secure" : "";
        document.cookie = `${binding.key}=${encodeURIComponent(text)}; Max-Age=${binding.maxAge ?? 31536000}; Path=/; SameSite=Lax${secure}`;
      }
    } catch (error) {
      console.warn("rill: could not keep a var in the browser:", binding.var, error);
    }
  }

  function syncStorage() {
    if (storageSent) {
      for (const binding of storage) persist(binding);
      return;
    }
    storageSent = true;
    const values = {};
    for (const binding of storage) {
      const value = storedValue(binding);
      if (value !== undefined) values[binding.var] = value;
    }
    if (Object.keys(values).length) socket.send(JSON.stringify({ type: "storage", values }));
  }

  let page;
  let token;
  let socket = null;
  let connected = false;
  let resume = false;
  let attempt = 0;
  let version = null; // the state's version the page shows; null before the first hydrate
  let resyncing = false; // asked for the whole state after a gap; deltas wait for it
  // The shared state keys the tab is linked to, by state: { k: the key's hash, v: its version }.
  // Each key counts its own versions; its changes come alike to every tab linked to it.
  let streams = {};

  // ---- The outbox ----
  // Every event gets an id (increasing, per tab) and stays here until the server acknowledges
  // it: in an `acks` list once its changes are committed (or it had been already), or in an
  // error. While the socket is down events wait here, and each new socket sends them again in
  // order; the server runs each id once. It lives in sessionStorage, so a reload keeps it.

  let outbox = []; // { id, text, key, sent }
  let outboxBytes = 0;
  let lastEventId = 0;

  function saveOutbox() {
    stored(OUTBOX_KEY, JSON.stringify({ token, last: lastEventId, events: outbox.map(({ id, text }) => ({ id, text })) }));
  }

  function loadOutbox() {
    let saved = null;
    try {
      saved = JSON.parse(stored(OUTBOX_KEY) || "null");
    } catch {}
    if (!isObject(saved)) return;
    if (isNum(saved.last) && saved.last > 0) lastEventId = Math.floor(saved.last);
    if (saved.token !== token || !Array.isArray(saved.events)) return;
    for (const e of saved.events.slice(0, MAX_OUTBOX)) {
      if (!isObject(e) || !isNum(e.id) || typeof e.text !== "string") continue;
      // Keys number the controls of the page that made them: none here has the same numbers.
      outbox.push({ id: e.id, text: e.text, key: null, sent: false });
      outboxBytes += e.text.length;
      lastEventId = Math.max(lastEventId, e.id);
    }
  }

  function live() {
    return connected && !!socket && socket.readyState === WebSocket.OPEN;
  }

  // Sends an event, or keeps it for the next socket; returns its id, or 0 when the outbox is
  // full and the event was not kept.
  function send(message, edit) {
    // While offline, a control's newer value replaces its older one still waiting unsent.
    const last = outbox[outbox.length - 1];
    const replaced = message.key && last && !last.sent && last.key === message.key ? last : null;
    const id = lastEventId + 1;
    const text = JSON.stringify({ ...message.body, id });
    const count = outbox.length - (replaced ? 1 : 0);
    const bytes = outboxBytes - (replaced ? replaced.text.length : 0);
    // The byte bound is for what waits: one event alone is kept whatever its size (the server
    // has its own bound on a message).
    if (count >= MAX_OUTBOX || (count > 0 && bytes + text.length > MAX_OUTBOX_BYTES)) {
      showToast(`${MAX_OUTBOX_FULL} That action was not kept.`);
      showPending();
      return 0;
    }
    if (replaced) {
      outbox.pop();
      outboxBytes -= replaced.text.length;
    }
    lastEventId = id;
    const entry = { id, text, key: message.key || null, sent: false };
    outbox.push(entry);
    outboxBytes += text.length;
    saveOutbox();
    if (live()) {
      socket.send(text);
      entry.sent = true;
      pingAfterEvent();
    } else {
      showPending();
    }
    if ("value" in message && edit) noteSent(edit, message.value);
    return id;
  }

  // Sends what the outbox holds that this socket has not carried yet, oldest first.
  function flushOutbox() {
    let any = false;
    for (const entry of outbox) {
      if (entry.sent) continue;
      socket.send(entry.text);
      entry.sent = true;
      any = true;
    }
    if (any) pingAfterEvent();
    showPending();
  }

  function acknowledge(ids, error) {
    if (!Array.isArray(ids) || ids.length === 0) return false;
    const done = new Set(ids);
    retryDelay = 0;
    const kept = outbox.filter((e) => !done.has(e.id));
    if (kept.length !== outbox.length) {
      outbox = kept;
      outboxBytes = kept.reduce((n, e) => n + e.text.length, 0);
      saveOutbox();
    }
    let shown = false;
    for (const id of ids) shown = formDone(id, error || null) || shown;
    showPending();
    return shown;
  }

  // The server could not load or save the tab's state for this event (its store was away, or it
  // was shutting down): the event changed nothing and stays, to go again after a pause.
  let retryTimer = 0;
  let retryDelay = 0;

  function retryLater(id) {
    const entry = outbox.find((e) => e.id === id);
    if (entry) entry.sent = false;
    if (retryTimer) return;
    retryDelay = Math.min(5000, retryDelay ? retryDelay * 2 : 500);
    retryTimer = setTimeout(() => {
      retryTimer = 0;
      if (live()) flushOutbox();
    }, retryDelay / 2 + (Math.random() * retryDelay) / 2);
  }

  // How many events wait for the socket: the page says so, and says when no more fit.
  function showPending() {
    const waiting = live() ? 0 : outbox.length;
    document.documentElement.classList.toggle("rill-pending", waiting > 0);
    if (status !== "live") setStatus(status);
  }

  // ---- Knowing whether the socket works ----
  // A socket can stay "open" while no byte gets through (a dead Wi-Fi, a sleeping laptop, a
  // proxy that lost the connection). So the page pings the server over the socket every
  // `heartbeat` ms and right after each event it sends; a ping unanswered for `timeout` ms means
  // the socket is dead: the page says so and reconnects. The server may set these (page.connection).
  const connection = { heartbeat: 3000, timeout: 5000, connectTimeout: 2500, maxBackoff: 2500 };
  let status = "connecting";
  let pings = []; // { id, at } sent and not answered yet, oldest first
  let pingId = 0;
  let lastPingAt = 0;
  let pingSoon = false;
  let watchdog = 0;
  let connectTimer = 0;
  let reconnectTimer = 0;
  let connectingBanner = 0;

  function setStatus(next) {
    status = next;
    clearTimeout(connectingBanner);
    if (next === "live") return showBanner(null);
    if (next === "connecting") {
      // Only a slow first connection is worth a word.
      connectingBanner = setTimeout(() => status === "connecting" && showBanner("Connecting…"), 1000);
      return;
    }
    const base = next === "offline" ? "You are offline. Reconnecting when the network is back…" : "Connection lost. Reconnecting…";
    const n = outbox.length;
    if (n === 0) return showBanner(base);
    const full = n >= MAX_OUTBOX || outboxBytes > MAX_OUTBOX_BYTES * 0.9 ? ` ${MAX_OUTBOX_FULL}` : "";
    showBanner(`${base} ${n} ${n === 1 ? "action waits" : "actions wait"} and will be sent then.${full}`);
  }

  function ping() {
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    pingId += 1;
    lastPingAt = Date.now();
    pings.push({ id: pingId, at: lastPingAt });
    socket.send(JSON.stringify({ type: "ping", id: pingId }));
  }

  // One ping after the events of this turn: a socket that died under them is noticed at once.
  function pingAfterEvent() {
    if (pingSoon) return;
    pingSoon = true;
    queueMicrotask(() => {
      pingSoon = false;
      ping();
    });
  }

  function pong(id) {
    if (!isNum(id)) return;
    pings = pings.filter((p) => p.id > id);
  }

  function tick() {
    const now = Date.now();
    if (pings.length > 0 && now - pings[0].at > connection.timeout) return dead("reconnecting");
    if (connected && now - lastPingAt >= connection.heartbeat) ping();
  }

  // Gives up on the current socket at once (its close may never come) and reconnects.
  function dead(next) {
    const ws = socket;
    if (ws) {
      socket = null; // its close event, if one ever arrives, is ignored
      try { ws.close(); } catch {}
    }
    lost(next);
  }

  function lost(next) {
    connected = false;
    clearInterval(watchdog);
    clearTimeout(connectTimer);
    pings = [];
    resyncing = false;
    // The next socket carries every event not acknowledged yet; the server runs each once.
    for (const entry of outbox) entry.sent = false;
    setStatus(next);
    reconnect(false);
  }

  // Attempt n waits between half and all of min(250 ms · 2ⁿ, maxBackoff), so tabs spread out.
  function reconnect(now) {
    clearTimeout(reconnectTimer);
    if (socket) return;
    const ceiling = Math.min(connection.maxBackoff, 250 * 2 ** attempt++);
    reconnectTimer = setTimeout(connect, now ? 0 : ceiling / 2 + (Math.random() * ceiling) / 2);
  }

  // A shared key's change applies on the version it names, for the key the tab is linked to; one
  // the page is already past, or of a key it left, is dropped. A hydration of the key older than
  // what the page shows is dropped too: the page only moves forward.
  function receiveStream(message) {
    const name = message.s;
    const current = streams[name];
    if (message.type === "hydrate") {
      if (!isObject(message.state)) return;
      if (typeof message.k !== "string") {
        delete streams[name]; // the tab left the key: the state's defaults follow
      } else if (current && current.k === message.k && isNum(message.v) && message.v <= current.v) {
        return;
      } else {
        streams[name] = { k: message.k, v: isNum(message.v) ? message.v : 0 };
      }
      replaceState({ ...state, [name]: isObject(message.state[name]) ? message.state[name] : {} });
      return;
    }
    if (!isObject(message.delta) || !current || current.k !== message.k || !isNum(message.v) || message.v <= current.v) return;
    const from = isNum(message.from) ? message.from : message.v - 1;
    if (from === current.v) {
      applyDelta(message.delta);
      current.v = message.v;
    } else {
      resync();
    }
  }

  // A hydration of the tab lists its keys' versions; where the page is further along a key's
  // changes than the hydration (it read the key earlier), the page keeps what it shows.
  function hydrateStreams(next, marks) {
    const kept = {};
    if (isObject(marks)) {
      for (const [name, mark] of Object.entries(marks)) {
        if (!isObject(mark) || typeof mark.k !== "string" || !isNum(mark.v)) continue;
        const current = streams[name];
        if (current && current.k === mark.k && current.v > mark.v) {
          next[name] = state[name];
          kept[name] = current;
        } else {
          kept[name] = { k: mark.k, v: mark.v };
        }
      }
    }
    streams = kept;
    return next;
  }

  // A delta applies only on the version it names; after a gap the page asks for its state.
  function resync() {
    if (resyncing || !live()) return;
    resyncing = true;
    socket.send(JSON.stringify({ type: "resync" }));
  }

  function receive(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (!isObject(message)) return;
    if (typeof message.s === "string" && (message.type === "hydrate" || message.type === "delta")) {
      receiveStream(message);
    } else if (message.type === "pong") {
      pong(message.id);
    } else if (message.type === "hydrate") {
      if (typeof message.token === "string" && TOKEN_PATTERN.test(message.token) && message.token !== token) {
        // A token of its own (this tab was a duplicate): the events waiting were the other tab's.
        token = stored(TOKEN_KEY, message.token);
        outbox = [];
        outboxBytes = 0;
        saveOutbox();
        releaseForms();
      }
      // Controls whose values are still in the outbox keep showing them: the state catches up
      // once those events are sent again.
      holdEdits = outbox.length > 0;
      replaceState(hydrateStreams(isObject(message.state) ? message.state : {}, message.streams));
      holdEdits = false;
      version = isNum(message.v) ? message.v : null;
      resyncing = false;
      loadPending = false;
      if (outbox.length === 0) resyncControls();
      acknowledge(message.acks);
      runCommands(message.commands);
      clearTimeout(connectTimer);
      connected = true;
      resume = true;
      attempt = 0;
      setStatus("live");
      syncStorage();
      // Acknowledgements lost with a gap are not known: every waiting event goes again.
      for (const entry of outbox) entry.sent = false;
      flushOutbox();
    } else if (message.type === "delta" && isObject(message.delta)) {
      if (isNum(message.v)) {
        const from = isNum(message.from) ? message.from : message.v - 1;
        if (!resyncing && from === version) {
          applyDelta(message.delta);
          version = message.v;
        } else {
          resync();
        }
      } else {
        applyDelta(message.delta);
      }
      acknowledge(message.acks);
      runCommands(message.commands);
    } else if (message.type === "error") {
      const id = isNum(message.id) ? message.id : null;
      if (id !== null && message.retry === true && outbox.some((e) => e.id === id)) return retryLater(id);
      if (!(id !== null && acknowledge([id], message))) showToast(toText(message.message) || "Something went wrong.");
      resyncControls();
    }
  }

  function connect() {
    clearTimeout(reconnectTimer);
    if (socket) return;
    const url = new URL(page.socket || "/_rill/socket", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    url.host = location.host;
    const query = new URLSearchParams({ token, path: location.pathname + location.search });
    if (resume) query.set("resume", "1");
    if (loadPending) query.set("load", "1");
    url.search = query.toString();
    const ws = new WebSocket(url.href);
    socket = ws;
    // A handshake that never completes (bytes dropped on the way) counts as a failed attempt.
    connectTimer = setTimeout(() => socket === ws && !connected && dead(status === "offline" ? "offline" : "reconnecting"), connection.connectTimeout);
    ws.addEventListener("open", () => {
      if (socket !== ws) return;
      clearInterval(watchdog);
      watchdog = setInterval(tick, Math.min(500, connection.heartbeat));
      ping();
    });
    ws.addEventListener("message", (event) => {
      if (socket === ws && typeof event.data === "string") receive(event.data);
    });
    ws.addEventListener("close", (event) => {
      if (socket !== ws) return;
      socket = null;
      // Another connection took this token over: rather than take it back (and have two tabs
      // trade it forever), this one reconnects as a duplicate and is given a token of its own.
      if (event.code === SUPERSEDED) resume = false;
      lost(status === "offline" ? "offline" : "reconnecting");
    });
  }

  // The browser's own word on the network, and a page coming back into view (after a laptop
  // slept, say), are checked at once instead of at the next heartbeat.
  function watchNetwork() {
    addEventListener("offline", () => dead("offline"));
    addEventListener("online", () => {
      if (connected) return ping();
      attempt = 0;
      if (status === "offline") setStatus("reconnecting");
      reconnect(true);
    });
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState !== "visible") return;
      if (connected) ping();
      else reconnect(true);
    });
  }

  function start() {
    const source = document.getElementById("rill-page");
    const root = document.getElementById("rill-root");
    if (!source || !root) {
      console.error("rill: the page has no #rill-page data or no #rill-root");
      return;
    }
    try {
      page = JSON.parse(source.textContent);
    } catch (error) {
      console.error("rill: the #rill-page data is not JSON:", error);
      return;
    }
    state = isObject(page.initial) ? page.initial : {};
    storage = Array.isArray(page.storage) ? page.storage.filter((b) => isObject(b) && typeof b.var === "string" && typeof b.key === "string") : [];
    if (isObject(page.connection)) {
      for (const key of Object.keys(connection)) {
        if (isNum(page.connection[key]) && page.connection[key] > 0) connection[key] = page.connection[key];
      }
    }
    token = loadToken();
    resume = takeResumeMark();
    loadOutbox();
    addEventListener("pagehide", () => stored(RESUME_KEY, token));
    addEventListener("pageshow", (event) => event.persisted && stored(RESUME_KEY, null));
    root.replaceChildren();
    mount(render(page.root, null, rootOwner), root, null);
    watchLinks();
    watchTabLists();

    Object.defineProperty(window, "__rill", {
      value: Object.freeze({
        get state() { return JSON.parse(JSON.stringify(state)); },
        get connected() { return connected; },
        get status() { return status; },
        get pending() { return outbox.length; },
        get version() { return version; },
        get streams() { return streams; },
        get token() { return token; },
      }),
    });
    watchNetwork();
    setStatus("connecting");
    connect();
  }

  start();
})();
