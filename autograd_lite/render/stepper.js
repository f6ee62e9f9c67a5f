// The stepping page's script (inlined by page.py). Positions: 0 shows the leaves; 1..F the
// forward steps (one op each); F+1 the start of backward(); then one position per chain-rule
// step. Every text comes formatted in the page's JSON and is written with textContent only.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("stepper-data").textContent);
  const F = data.forward.length;
  const B = data.backward.length;
  const last = F + 1 + B;
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
  for (const edge of document.querySelectorAll("#graph g.edge")) {
    const m = /^v(\d+)-o(\d+)/.exec(edge.id);
    if (m) nodes[Number(m[2])].edgesIn.push(edge);
  }
  const forwardAt = new Map(data.forward.map((f, k) => [f.node, k + 1]));

  const HIGHLIGHTS = ["hl-result", "hl-operand", "hl-op", "hl-edge", "hl-out", "hl-in", "pending"];
  function clear() {
    for (const el of document.querySelectorAll("#graph ." + HIGHLIGHTS.join(", #graph ."))) {
      el.classList.remove(...HIGHLIGHTS);
    }
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

  function say(phase, formula, note, code) {
    $("phase").textContent = phase;
    $("formula").textContent = formula;
    $("note").textContent = note;
    $("code-line").hidden = code == null;
    $("code").textContent = code == null ? "" : code;
  }

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
    } else {
      const k = pos - F - 2;
      const s = data.backward[k];
      paintBoxes(pos, k + 1, true);
      const r = nodes[s.result];
      mark(r.box, "hl-result"); mark(r.op, "hl-op"); mark(r.edgeOut, "hl-out");
      mark(nodes[s.operand].box, "hl-operand");
      mark($(s.edge), "hl-edge");
      say(`Backward pass: step ${k + 1} of ${B}`, s.text, s.note, data.hasCode ? s.code : null);
      focus = [$(s.edge), nodes[s.operand].box, r.box];
    }
    slider.value = String(pos);
    $("counter").textContent = `${pos} / ${last}`;
    $("prev").disabled = pos === 0;
    $("reset").disabled = pos === 0;
    $("next").disabled = pos === last;
    reveal(focus);
  }

  // Scroll the page, when the step's elements are not all in view below the sticky header,
  // so that they are (the first ones first, if all do not fit).
  function reveal(els) {
    const top = $("top").getBoundingClientRect().bottom + 8;
    const bottom = window.innerHeight - 8;
    let box = null;
    for (const el of els.filter(Boolean)) {
      const r = el.getBoundingClientRect();
      const next = box === null ? { top: r.top, bottom: r.bottom } :
        { top: Math.min(box.top, r.top), bottom: Math.max(box.bottom, r.bottom) };
      if (box !== null && next.bottom - next.top > bottom - top) break;
      box = next;
    }
    if (box === null || (box.top >= top && box.bottom <= bottom)) return;
    // Centred, so that what comes before and after the step shows too.
    window.scrollBy(0, (box.top + box.bottom) / 2 - (top + bottom) / 2);
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
    const to = { ArrowRight: pos + 1, ArrowLeft: pos - 1, Home: 0, End: last }[event.key];
    if (to === undefined) return;
    event.preventDefault();
    go(to);
  });
  render();
})();
