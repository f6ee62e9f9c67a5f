// The stepping page's script (inlined by page.py). Positions: 0 shows the leaves; 1..F the
// forward steps (one op each); F+1 the start of backward(); then one position per chain-rule
// step; the last, the summary (each parameter's gradient, and the SGD step if the page has a
// learning rate). Every text comes formatted in the page's JSON and is written with
// textContent only. The graph is zoomed and panned by changing the SVG's viewBox.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("stepper-data").textContent);
  const F = data.forward.length;
  const B = data.backward.length;
  const last = F + 2 + B;
  const SVG_NS = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  const slider = $("slider");
  slider.max = String(last);

  // What each node's box shows: found in dot's SVG by the row names "data" and "grad" (the
  // last such text: a label, drawn first, may start with the same word).
  function rows(group) {
    const texts = Array.from(group.querySelectorAll("text"));
    const find = (word) => {
      for (let k = texts.length - 1; k >= 0; k--) {
        const t = texts[k].textContent;
        if (t === word || t.startsWith(word + " ")) return k;
      }
      return -1;
    };
    const d = find("data");
    let g = find("grad");
    if (g < d) g = -1;
    return {
      data: d < 0 ? null : texts[d],
      dataLines: d < 0 ? [] : texts.slice(d + 1, g < 0 ? texts.length : g),
      grad: g < 0 ? null : texts[g],
      gradLines: g < 0 ? [] : texts.slice(g + 1),
    };
  }

  const nodes = data.nodes.map((info, i) => {
    const box = $("v" + i);
    const op = $("o" + i);
    const r = box ? rows(box) : { data: null, dataLines: [], grad: null, gradLines: [] };
    return {
      info, box, op, rows: r,
      dataText: r.data ? r.data.textContent : "",
      gradWidth: r.grad ? r.grad.getComputedTextLength() : 0,
      edgesIn: [], edgeOut: $("o" + i + "-v" + i),
    };
  });
  // An operand's edge into an op, with its ∂ (a node the edge runs through) and the piece
  // from the ∂ on, if drawn: `v1-o3`, `v1-o3-label`, `v1-o3-to` (see page.py).
  for (const part of document.querySelectorAll("#graph g.edge, #graph g.node")) {
    const m = /^v(\d+)-o(\d+)/.exec(part.id);
    if (m) nodes[Number(m[2])].edgesIn.push(part);
  }
  const edgeParts = (id) => [$(id), $(id + "-label"), $(id + "-to")];
  const forwardAt = new Map(data.forward.map((f, k) => [f.node, k + 1]));

  const HIGHLIGHTS = ["hl-result", "hl-operand", "hl-op", "hl-edge", "hl-out", "hl-in", "pending"];
  function clear() {
    for (const el of document.querySelectorAll("#graph ." + HIGHLIGHTS.join(", #graph ."))) {
      el.classList.remove(...HIGHLIGHTS);
    }
    for (const el of document.querySelectorAll("#graph .back-arrow, #graph .flow")) el.remove();
  }

  // Backward: an arrowhead at the operand's end of the edge and a dot running from the
  // result's end to it, so the edge shows the gradient going from result to operand (dot drew
  // the edge from operand to op, its path starting at the operand).
  function flowBack(edge) {
    const path = edge && edge.querySelector("path");
    if (!path) return;
    const length = path.getTotalLength();
    const tip = path.getPointAtLength(0);
    const back = path.getPointAtLength(Math.min(10, length));
    const dx = tip.x - back.x, dy = tip.y - back.y;
    const norm = Math.hypot(dx, dy) || 1;
    const ux = dx / norm, uy = dy / norm;
    const arrow = document.createElementNS(SVG_NS, "polygon");
    const b = (k, side) => `${tip.x - 9 * ux + side * 4.5 * uy},${tip.y - 9 * uy - side * 4.5 * ux}`;
    arrow.setAttribute("points", `${tip.x},${tip.y} ${b(0, 1)} ${b(0, -1)}`);
    arrow.setAttribute("class", "back-arrow");
    edge.appendChild(arrow);
    if (!path.id) path.id = "path-" + edge.id;
    const dot = document.createElementNS(SVG_NS, "circle");
    dot.setAttribute("r", "3.5");
    dot.setAttribute("class", "flow");
    const motion = document.createElementNS(SVG_NS, "animateMotion");
    for (const [k, v] of [["dur", "1.4s"], ["repeatCount", "indefinite"], ["keyPoints", "1;0"],
      ["keyTimes", "0;1"], ["calcMode", "linear"]]) motion.setAttribute(k, v);
    const mpath = document.createElementNS(SVG_NS, "mpath");
    mpath.setAttribute("href", "#" + path.id);
    motion.appendChild(mpath);
    dot.appendChild(motion);
    edge.appendChild(dot);
  }
  const mark = (el, cls) => { if (el) el.classList.add(cls); };
  const show = (els, on) => { for (const el of els) el.style.visibility = on ? "" : "hidden"; };

  // Boxes: data once computed; grads as backward() has left them after `done` steps.
  function paintBoxes(pos, done, seeded) {
    const grads = new Map();
    const complete = new Set();
    if (seeded) { grads.set(data.seed.node, data.seed.grad); complete.add(data.seed.node); }
    for (let k = 0; k < done; k++) {
      const s = data.backward[k];
      grads.set(s.operand, s.grad);
      if (s.complete) complete.add(s.operand);
    }
    nodes.forEach((n, i) => {
      const computed = n.info.leaf || forwardAt.get(i) <= pos;
      if (!computed) {
        mark(n.box, "pending"); mark(n.op, "pending"); mark(n.edgeOut, "pending");
        for (const e of n.edgesIn) mark(e, "pending");
      }
      const r = n.rows;
      if (data.tensors) {
        show(r.dataLines, computed);
        show(r.gradLines, complete.has(i));
        show(r.grad ? [r.grad] : [], pos > F);
        return;
      }
      if (r.data) r.data.textContent = computed ? n.dataText : "data ?";
      if (r.grad) {
        r.grad.style.visibility = pos > F ? "" : "hidden";
        const text = "grad " + (grads.has(i) ? grads.get(i) : "0");
        if (r.grad.textContent !== text) {  // measuring costs a layout: only when it changed
          r.grad.textContent = text;
          fit(r.grad, n.gradWidth);
        }
        r.grad.classList.toggle("partial", grads.has(i) && !complete.has(i));
      }
    });
    document.body.classList.toggle("backward", pos > F);
  }

  // The box was drawn for the final gradient: a longer partial one is squeezed into it.
  function fit(text, width) {
    text.removeAttribute("textLength");
    if (text.getComputedTextLength() > width + 0.5) {
      text.setAttribute("textLength", String(width));
      text.setAttribute("lengthAdjust", "spacingAndGlyphs");
    }
  }

  // The code line keeps its room when a step has none: the header's height never changes.
  function say(phase, formula, note, code) {
    $("phase").textContent = phase;
    $("formula").textContent = formula;
    $("note").textContent = note;
    $("code-line").classList.toggle("none", code == null);
    $("code").textContent = code == null ? "" : code;
  }

  // The summary's table: each parameter's gradient, and with a learning rate its SGD step.
  function fillSummary() {
    const sum = data.summary;
    const sgd = sum.lr !== null;
    const head = ["parameter", `d${sum.output}/dw`, ...(sgd ? ["old w", `new w = w − ${sum.lr} · d${sum.output}/dw`] : [])];
    for (const text of head) {
      const th = document.createElement("th");
      th.textContent = text;
      $("summary-head").appendChild(th);
    }
    const body = $("gradients").querySelector("tbody");
    for (const row of sum.rows) {
      const tr = document.createElement("tr");
      const cells = [row.name, row.grad, ...(sgd ? [row.old || "-", row.new || "-"] : [])];
      cells.forEach((text, k) => {
        const td = document.createElement("td");
        td.textContent = text;
        if (sgd && k === 3) td.className = "new";
        tr.appendChild(td);
      });
      body.appendChild(tr);
    }
  }
  fillSummary();

  let pos = 0;
  function render() {
    clear();
    let focus = [];
    if (pos === 0) {
      paintBoxes(0, 0, false);
      say("Forward pass: the start", data.start, "", null);
    } else if (pos <= F) {
      const f = data.forward[pos - 1];
      paintBoxes(pos, 0, false);
      const n = nodes[f.node];
      mark(n.box, "hl-result"); mark(n.op, "hl-op"); mark(n.edgeOut, "hl-out");
      for (const e of n.edgesIn) mark(e, "hl-in");
      for (const k of f.operands) mark(nodes[k].box, "hl-operand");
      say(`Forward pass: op ${pos} of ${F}`, f.text, "", null);
      focus = [n.box, ...f.operands.map((k) => nodes[k].box)];
    } else if (pos === F + 1) {
      paintBoxes(pos, 0, true);
      mark(nodes[data.seed.node].box, "hl-result");
      say(`Backward pass: the start (${B} steps to go)`, data.seed.text, data.seed.note, null);
      focus = [nodes[data.seed.node].box];
    } else if (pos < last) {
      const k = pos - F - 2;
      const s = data.backward[k];
      paintBoxes(pos, k + 1, true);
      const r = nodes[s.result];
      mark(r.box, "hl-result"); mark(r.op, "hl-op"); mark(r.edgeOut, "hl-out");
      mark(nodes[s.operand].box, "hl-operand");
      for (const part of edgeParts(s.edge)) mark(part, "hl-edge");
      flowBack($(s.edge));
      say(`Backward pass: step ${k + 1} of ${B}`, s.text, s.note, data.hasCode ? s.code : null);
      // The edge's path, not its group: the running dot is not placed yet.
      const path = $(s.edge) && $(s.edge).querySelector("path");
      focus = [path, nodes[s.operand].box, r.box];
    } else {
      paintBoxes(pos, B, true);
      say("The end: the gradients", data.summary.text, data.summary.note, null);
    }
    const summary = pos === last;
    if ($("summary").hidden === summary) {  // the graph's area changes: fit it again
      $("summary").hidden = !summary;
      fitView();
    }
    slider.value = String(pos);
    $("counter").textContent = `${pos} / ${last}`;
    $("prev").disabled = pos === 0;
    $("reset").disabled = pos === 0;
    $("next").disabled = pos === last;
    reveal(focus);
  }

  // -- the view: the SVG's viewBox is the part of the drawing shown in the graph's area ----
  const main = $("graph");
  const svg = main.querySelector("svg");
  const [x0, y0, w0, h0] = svg.getAttribute("viewBox").split(/[\s,]+/).map(Number);
  const whole = { x: x0, y: y0, w: w0, h: h0 };
  svg.removeAttribute("width");
  svg.removeAttribute("height");
  svg.setAttribute("preserveAspectRatio", "xMidYMid meet");
  let view = { ...whole };
  const MAX_FIT = 1.5;  // a small graph is drawn at most this much larger than dot made it
  const PAD = 10;

  function setView(v) {
    view = v;
    svg.setAttribute("viewBox", `${v.x} ${v.y} ${v.w} ${v.h}`);
  }
  // The whole drawing in the area, centred, as large as fits (up to MAX_FIT).
  function fitView() {
    const area = main.getBoundingClientRect();
    const aw = Math.max(area.width - 2 * PAD, 1), ah = Math.max(area.height - 2 * PAD, 1);
    const scale = Math.min(aw / whole.w, ah / whole.h, MAX_FIT);
    const w = area.width / scale, h = area.height / scale;
    setView({ x: whole.x + whole.w / 2 - w / 2, y: whole.y + whole.h / 2 - h / 2, w, h });
  }
  // Pixels of the area per unit of the drawing.
  const scaleNow = () => main.getBoundingClientRect().width / view.w;
  // Zoom by `factor` keeping the drawing's point under (cx, cy) (client pixels) in place.
  function zoom(factor, cx, cy) {
    const area = main.getBoundingClientRect();
    if (cx === undefined) { cx = area.left + area.width / 2; cy = area.top + area.height / 2; }
    const s = scaleNow();
    const next = Math.min(Math.max(s * factor, 0.05), 8);
    const px = view.x + (cx - area.left) / s, py = view.y + (cy - area.top) / s;
    const w = area.width / next, h = area.height / next;
    setView({ x: px - (cx - area.left) / next, y: py - (cy - area.top) / next, w, h });
  }
  function pan(dx, dy) {  // client pixels
    const s = scaleNow();
    setView({ ...view, x: view.x - dx / s, y: view.y - dy / s });
  }

  main.addEventListener("wheel", (event) => {
    event.preventDefault();
    zoom(Math.exp(-event.deltaY * 0.0015), event.clientX, event.clientY);
  }, { passive: false });
  let drag = null;
  main.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    drag = { x: event.clientX, y: event.clientY };
    main.setPointerCapture(event.pointerId);
    main.classList.add("dragging");
  });
  main.addEventListener("pointermove", (event) => {
    if (drag === null) return;
    pan(event.clientX - drag.x, event.clientY - drag.y);
    drag = { x: event.clientX, y: event.clientY };
  });
  const endDrag = () => { drag = null; main.classList.remove("dragging"); };
  main.addEventListener("pointerup", endDrag);
  main.addEventListener("pointercancel", endDrag);
  $("zoom-in").addEventListener("click", () => zoom(1.25));
  $("zoom-out").addEventListener("click", () => zoom(1 / 1.25));
  $("fit").addEventListener("click", fitView);
  window.addEventListener("resize", fitView);

  // Pan, when the step's elements are not all in the graph's area, so that they are (the
  // first ones first, if all do not fit), centred so that what comes before and after shows.
  function reveal(els) {
    const area = main.getBoundingClientRect();
    let box = null;
    for (const el of els.filter(Boolean)) {
      const r = el.getBoundingClientRect();
      const next = box === null ? { l: r.left, r: r.right, t: r.top, b: r.bottom } : {
        l: Math.min(box.l, r.left), r: Math.max(box.r, r.right),
        t: Math.min(box.t, r.top), b: Math.max(box.b, r.bottom),
      };
      if (box !== null && (next.b - next.t > area.height || next.r - next.l > area.width)) break;
      box = next;
    }
    if (box === null) return;
    if (box.t >= area.top && box.b <= area.bottom && box.l >= area.left && box.r <= area.right) {
      return;
    }
    pan((area.left + area.right) / 2 - (box.l + box.r) / 2,
      (area.top + area.bottom) / 2 - (box.t + box.b) / 2);
  }

  function go(to) {
    pos = Math.max(0, Math.min(last, to));
    render();
  }
  $("next").addEventListener("click", () => go(pos + 1));
  $("prev").addEventListener("click", () => go(pos - 1));
  $("reset").addEventListener("click", () => go(0));
  slider.addEventListener("input", () => go(Number(slider.value)));
  document.addEventListener("keydown", (event) => {
    if (event.target === slider || event.altKey || event.ctrlKey || event.metaKey) return;
    const viewKey = { "+": () => zoom(1.25), "=": () => zoom(1.25), "-": () => zoom(1 / 1.25),
      "0": fitView }[event.key];
    if (viewKey !== undefined) { event.preventDefault(); viewKey(); return; }
    const to = { ArrowRight: pos + 1, ArrowLeft: pos - 1, Home: 0, End: last }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    go(to);
  });
  fitView();
  render();
})();
