// The route builder (UI.md screen 9). The page gives the definition, the
// organisation's names and the words as JSON; this script renders stages as columns
// and steps as cards, edits them in a dialog, and asks the server to check, simulate,
// save and publish. The server (the engine) stays the judge of what is valid.
(() => {
  const stateEl = document.getElementById("rb-state");
  const board = document.getElementById("rb-board");
  const routeBox = document.getElementById("rb-route");
  if (!stateEl || !board || !routeBox) return;
  const S = JSON.parse(stateEl.textContent);
  const WORDS = JSON.parse(document.getElementById("rb-words").textContent);
  const W = WORDS.w;
  const lang = document.documentElement.lang === "en" ? "en" : "ru";
  let def = S.definition;
  if (!Array.isArray(def.stages)) def.stages = [];
  let token = S.token;
  let problems = [];
  let dirty = false;

  const KIND_OUTCOMES = {
    approve: ["approve", "approve_with_remarks", "return", "reject"],
    sign: ["approve", "return", "reject"],
    consult: ["opinion"],
    acknowledge: ["acknowledge"],
    request_info: ["done", "return", "reject"],
    task: ["done", "return", "reject"],
    wait: [],
    system: [],
  };
  const OPS_BY_KIND = {
    number: ["eq", "ne", "gt", "gte", "lt", "lte", "empty", "not_empty"],
    money: ["eq", "ne", "gt", "gte", "lt", "lte", "empty", "not_empty"],
    date: ["eq", "ne", "gt", "gte", "lt", "lte", "empty", "not_empty"],
    choice: ["eq", "ne", "empty", "not_empty"],
    bool: ["eq", "ne"],
    department: ["eq", "ne", "empty", "not_empty"],
    string: ["eq", "ne", "contains", "empty", "not_empty"],
  };
  const fields = S.facts.fields;
  const fieldOf = (key) => fields.find((f) => f.key === key);
  const fmt = (text, values) => text.replace(/%\((\w+)\)s/g, (_, k) => values[k]);

  // --- tiny DOM helper -----------------------------------------------------------------
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") el.className = v;
      else if (k === "text") el.textContent = v;
      else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }
  const option = (value, label, selected) =>
    h("option", { value, selected: String(selected) === String(value) }, label);

  // --- words for a step -----------------------------------------------------------------
  const textOf = (name, fallback) => (name && (name[lang] || name.ru || name.en)) || fallback;
  const labelIn = (list, key) => (list.find((x) => x.key === key) || {}).label || key;

  function assigneeText(a) {
    if (!a) return "";
    const kind = Object.keys(a).find((k) => k !== "levels" && a[k] !== false && a[k] !== null);
    if (!kind) return "";
    const name = WORDS.assignees[kind] || kind;
    const v = a[kind];
    if (kind === "user") return labelIn(S.facts.users, v);
    if (kind === "role") return `${name}: ${labelIn(S.facts.roles, v)}`;
    if (kind === "manager_of") {
      const of = v === "initiator" ? W.ofInitiator : labelIn(fields, v);
      return `${name} ${of}${a.levels > 1 ? ` +${a.levels - 1}` : ""}`;
    }
    if (kind === "department_head") return `${name}: ${v === "initiator" ? W.initiatorDept : labelIn(S.facts.departments, v)}`;
    if (kind === "department_head_field" || kind === "user_field" || kind === "users_field" || kind === "guest_field") return `${name}: ${labelIn(fields, v)}`;
    if (kind === "guests") return `${name}: ${(v || []).join(", ")}`;
    return name;
  }

  function valueText(field, value) {
    if (typeof value === "boolean") return value ? W.yes : W.no;
    const f = fieldOf(field);
    if (f && f.choices.length) {
      const c = f.choices.find((x) => String(x.value) === String(value));
      if (c) return `«${c.label}»`;
    }
    if (field === "initiator.department") return `«${labelIn(S.facts.departments, value)}»`;
    return `«${value}»`;
  }

  function conditionText(cond) {
    if (!cond) return "";
    const inner = (c) => (c && (c.all || c.any) ? `(${conditionText(c)})` : conditionText(c));
    if (cond.all) return cond.all.map(inner).join(` ${W.and} `);
    if (cond.any) return cond.any.map(inner).join(` ${W.or} `);
    if (cond.not) return `${W.not} (${conditionText(cond.not)})`;
    const f = fieldOf(cond.field);
    const name = f ? `«${f.label}»` : cond.field;
    const op = WORDS.ops[cond.op || "eq"] || cond.op;
    if (cond.op === "empty" || cond.op === "not_empty") return `${name} ${op}`;
    return `${name} ${op} ${valueText(cond.field, cond.value)}`;
  }

  function dueText(due) {
    if (!due) return "";
    if (due.working_days) return fmt(W.wdShort, { n: due.working_days });
    if (due.hours) return fmt(W.hShort, { n: due.hours });
    if (due.field) return labelIn(fields, due.field);
    return "";
  }

  // --- problems by path ---------------------------------------------------------------
  function problemsAt(stage, step) {
    return problems.filter((p) => {
      const m = /^stages\[(\d+)\](?:\.steps\[(\d+)\])?/.exec(p.path);
      if (!m) return stage === null;
      if (stage === null || Number(m[1]) !== stage) return false;
      if (step === null) return m[2] === undefined;
      return m[2] !== undefined && Number(m[2]) === step;
    });
  }

  // --- the board ----------------------------------------------------------------------
  function uniqueKey(prefix, taken) {
    let n = 1;
    while (taken.includes(`${prefix}_${n}`)) n += 1;
    return `${prefix}_${n}`;
  }

  function render(focus) {
    board.replaceChildren();
    const row = h("div", { class: "rb-columns" });
    def.stages.forEach((stage, si) => row.append(renderStage(stage, si)));
    row.append(
      h("div", { class: "rb-stage rb-stage-add" },
        h("button", { type: "button", class: "btn btn-outline-primary", id: "rb-add-stage", onclick: addStage },
          h("i", { class: "bi bi-plus-lg", "aria-hidden": "true" }), " ",
          def.stages.length ? W.addStage : W.addFirstStage)),
    );
    board.append(row);
    routeBox.replaceChildren(renderRouteCard());
    if (focus) {
      const el = board.querySelector(focus);
      if (el) el.focus();
    }
  }

  // The route's own card: what happens when it finishes, stalls or is returned,
  // with the problems of those settings.
  function actionText(a) {
    const statusLabel = (key) => `«${labelIn(S.facts.statuses, key)}»`;
    if (a.set_status) return `${WORDS.actions.set_status}: ${statusLabel(a.set_status)}`;
    if (a.notify) return `${WORDS.actions.notify}: ${a.notify.map(recipientText).join(", ")}`;
    if (a.file_to) return `${WORDS.actions.file_to}: ${a.file_to}`;
    if (a.generate) return `${WORDS.actions.generate}: ${a.generate}`;
    if (a.remind) return fmt(W.remindText, { n: a.remind.days || 0, field: `«${labelIn(fields, a.remind.before_field)}»`, who: (a.remind.notify || ["initiator"]).map(recipientText).join(", ") });
    return JSON.stringify(a);
  }
  function renderRouteCard() {
    const own = problemsAt(null, null);
    const ret = def.on_return || {};
    const lines = [];
    const finish = splitActions(def.on_finish);
    lines.push(h("li", {}, h("strong", {}, `${W.onFinish}: `), finish.length ? finish.map(actionText).join("; ") : W.nothing));
    if (def.stall_alert) lines.push(h("li", {}, h("strong", {}, `${W.stallAlert}: `), fmt(W.stallText, { n: def.stall_alert.hours, who: (def.stall_alert.notify || ["initiator"]).map(recipientText).join(", ") })));
    lines.push(h("li", {}, h("strong", {}, `${W.onReturn}: `), [ret.restart === "same_stage" ? W.restartSame : W.restartFirst, ({ not_approved_even_if_changed: W.reaskNot, not_approved: W.reaskUnchanged }[ret.reask] || W.reaskAll), ret.initiator_may_edit ? W.initiatorMayEdit : null].filter(Boolean).join("; ")));
    return h("section", { class: `rb-route-card card card-body py-2 mb-2${own.length ? " rb-has-problem" : ""}`, "aria-labelledby": "rb-route-card-title" },
      h("div", { class: "d-flex align-items-center gap-2" }, h("h2", { class: "h6 mb-0 me-auto", id: "rb-route-card-title" }, W.routeCard),
        h("button", { type: "button", class: "btn btn-sm btn-outline-secondary", id: "rb-route-card-open", onclick: openRoute }, h("i", { class: "bi bi-gear", "aria-hidden": "true" }), ` ${W.edit}`)),
      h("ul", { class: "list-unstyled small mb-0" }, lines),
      own.length ? h("ul", { class: "rb-problems list-unstyled mb-0 mt-1" }, own.map((p) => h("li", { class: "small text-danger" }, h("i", { class: "bi bi-exclamation-triangle-fill", "aria-hidden": "true" }), " ", p.message))) : null);
  }

  function renderStage(stage, si) {
    const own = problemsAt(si, null);
    const col = h("section", {
      class: `rb-stage${own.length ? " rb-has-problem" : ""}`,
      "data-stage": si,
      "aria-labelledby": `rb-stage-${si}`,
    });
    const header = h("div", { class: "rb-stage-head", draggable: "true", "data-stage-drag": si },
      h("h2", { class: "h6 mb-0", id: `rb-stage-${si}` }, `${si + 1}. ${textOf(stage.name, stage.key)}`),
      stage.when ? h("div", { class: "small text-body-secondary" }, `${W.runsIf} ${conditionText(stage.when)}`) : null,
      h("div", { class: "rb-tools" },
        iconButton("bi-gear", W.editStage, () => openStage(si), `rb-stage-edit-${si}`),
        iconButton("bi-arrow-left", W.stageLeft, () => moveStage(si, -1), null, si === 0),
        iconButton("bi-arrow-right", W.stageRight, () => moveStage(si, 1), null, si === def.stages.length - 1)),
    );
    col.append(header);
    if (own.length) col.append(h("ul", { class: "rb-problems list-unstyled" }, own.map((p) => h("li", { class: "small text-danger" }, p.message))));
    const list = h("ul", { class: "rb-steps list-unstyled", "data-drop-stage": si });
    (stage.steps || []).forEach((step, ti) => list.append(renderStep(step, si, ti)));
    col.append(list);
    col.append(h("button", { type: "button", class: "btn btn-sm btn-outline-secondary w-100", "data-add-step": si, onclick: () => addStep(si) },
      h("i", { class: "bi bi-plus-lg", "aria-hidden": "true" }), ` ${W.addStep}`));
    header.addEventListener("dragstart", (e) => { e.dataTransfer.setData("text/plain", `stage:${si}`); });
    col.addEventListener("dragover", (e) => e.preventDefault());
    col.addEventListener("drop", (e) => onDrop(e, si, null));
    return col;
  }

  function iconButton(icon, label, onclick, id, disabled) {
    return h("button", { type: "button", class: "btn btn-sm btn-link rb-icon", "aria-label": label, title: label, onclick, id, disabled: !!disabled },
      h("i", { class: `bi ${icon}`, "aria-hidden": "true" }));
  }

  function renderStep(step, si, ti) {
    const own = problemsAt(si, ti);
    const kind = WORDS.kinds[step.kind || "approve"] || step.kind;
    const li = h("li", { class: `rb-card${own.length ? " rb-has-problem" : ""}`, draggable: "true", "data-step": `${si}.${ti}` });
    const open = h("button", { type: "button", class: "rb-card-open", id: `rb-step-${si}-${ti}`, "data-step-key": step.key, onclick: () => openStep(si, ti) },
      h("span", { class: "rb-card-title" }, textOf(step.name, step.key)),
      h("span", { class: "small d-block" }, [kind, assigneeText(step.assignee), dueText(step.due)].filter(Boolean).join(" · ")),
      step.when ? h("span", { class: "small d-block text-body-secondary" }, `${W.runsIf} ${conditionText(step.when)}`) : null,
    );
    open.addEventListener("keydown", (e) => {
      if (!e.altKey) return;
      const moves = { ArrowUp: [0, -1], ArrowDown: [0, 1], ArrowLeft: [-1, 0], ArrowRight: [1, 0] };
      if (moves[e.key]) {
        e.preventDefault();
        moveStep(si, ti, ...moves[e.key]);
      }
    });
    li.append(open);
    if (own.length) li.append(h("ul", { class: "rb-problems list-unstyled mb-1" }, own.map((p) => h("li", { class: "small text-danger" }, h("i", { class: "bi bi-exclamation-triangle-fill", "aria-hidden": "true" }), " ", p.message))));
    li.append(h("div", { class: "rb-tools" },
      iconButton("bi-arrow-up", W.moveUp, () => moveStep(si, ti, 0, -1), null, ti === 0),
      iconButton("bi-arrow-down", W.moveDown, () => moveStep(si, ti, 0, 1), null, ti === def.stages[si].steps.length - 1),
      iconButton("bi-box-arrow-left", W.movePrev, () => moveStep(si, ti, -1, 0), null, si === 0),
      iconButton("bi-box-arrow-right", W.moveNext, () => moveStep(si, ti, 1, 0), null, si === def.stages.length - 1)));
    li.addEventListener("dragstart", (e) => { e.stopPropagation(); e.dataTransfer.setData("text/plain", `step:${si}.${ti}`); });
    li.addEventListener("dragover", (e) => e.preventDefault());
    li.addEventListener("drop", (e) => onDrop(e, si, ti));
    return li;
  }

  function onDrop(e, si, ti) {
    e.preventDefault();
    e.stopPropagation();
    const data = e.dataTransfer.getData("text/plain");
    if (data.startsWith("stage:")) {
      const from = Number(data.slice(6));
      if (from === si) return;
      const [stage] = def.stages.splice(from, 1);
      def.stages.splice(si, 0, stage);
      changed(`#rb-stage-edit-${si}`);
    } else if (data.startsWith("step:")) {
      const [fs, ft] = data.slice(5).split(".").map(Number);
      const [step] = def.stages[fs].steps.splice(ft, 1);
      const target = def.stages[si].steps;
      let at = ti === null ? target.length : ti;
      if (fs === si && ti !== null && ft < ti) at -= 0;
      target.splice(Math.min(at, target.length), 0, step);
      fixKey(si, step);
      changed(`[data-step-key="${step.key}"]`);
    }
  }

  function fixKey(si, step) {
    const others = def.stages[si].steps.filter((s) => s !== step).map((s) => s.key);
    if (others.includes(step.key)) step.key = uniqueKey(step.key.replace(/_\d+$/, "") || "step", others);
  }

  function moveStage(si, delta) {
    const to = si + delta;
    if (to < 0 || to >= def.stages.length) return;
    const [stage] = def.stages.splice(si, 1);
    def.stages.splice(to, 0, stage);
    changed(`#rb-stage-edit-${to}`);
  }

  function moveStep(si, ti, ds, dt) {
    const steps = def.stages[si].steps;
    const step = steps[ti];
    if (ds === 0) {
      const to = ti + dt;
      if (to < 0 || to >= steps.length) return;
      steps.splice(ti, 1);
      steps.splice(to, 0, step);
      changed(`#rb-step-${si}-${to}`);
      return;
    }
    const ts = si + ds;
    if (ts < 0 || ts >= def.stages.length) return;
    steps.splice(ti, 1);
    def.stages[ts].steps.push(step);
    fixKey(ts, step);
    changed(`#rb-step-${ts}-${def.stages[ts].steps.length - 1}`);
  }

  function addStage() {
    const key = uniqueKey("stage", def.stages.map((s) => s.key));
    const name = { ru: "", en: "" };
    name[lang] = `${W.stage} ${def.stages.length + 1}`;
    def.stages.push({ key, name, steps: [] });
    changed(`[data-add-step="${def.stages.length - 1}"]`);
  }

  function addStep(si) {
    const stage = def.stages[si];
    const key = uniqueKey("step", stage.steps.map((s) => s.key));
    stage.steps.push({ key, kind: "approve" });
    changed(`#rb-step-${si}-${stage.steps.length - 1}`);
    openStep(si, stage.steps.length - 1);
  }

  // --- the drawer -----------------------------------------------------------------------
  const drawer = document.getElementById("rb-drawer");
  const drawerBody = document.getElementById("rb-drawer-body");
  const drawerTitle = document.getElementById("rb-drawer-title");
  let applyDrawer = null;
  let deleteDrawer = null;
  let returnFocus = null;

  // Live checks in the drawer: what the route would be with the drawer applied is
  // checked by the server; the problems that concern this card are listed on top.
  const drawerProblems = document.getElementById("rb-drawer-problems");
  let drawerCheck = null;
  let drawerTimer = null;
  let drawerSeq = 0;
  function showDrawerProblems(found) {
    drawerProblems.replaceChildren(...(found.length ? [h("ul", { class: "list-unstyled mb-2 rb-problems" }, found.map((p) => h("li", { class: "small text-danger" },
      h("i", { class: "bi bi-exclamation-triangle-fill", "aria-hidden": "true" }), " ", p.message)))] : []));
  }
  async function runDrawerCheck() {
    if (!drawerCheck || !drawer.open) return;
    const seq = ++drawerSeq;
    const candidate = JSON.parse(JSON.stringify(def));
    try {
      drawerCheck.preview(candidate);
      const { ok, data } = await post(S.urls.check, { definition: candidate });
      if (!ok || seq !== drawerSeq || !drawer.open) return;
      showDrawerProblems(data.problems.filter((p) => drawerCheck.concerns(p.path)));
    } catch (_e) { /* the next change checks again */ }
  }
  drawerBody.addEventListener("change", () => { clearTimeout(drawerTimer); drawerTimer = setTimeout(runDrawerCheck, 300); });
  drawerBody.addEventListener("input", () => { clearTimeout(drawerTimer); drawerTimer = setTimeout(runDrawerCheck, 500); });
  const pathAt = (path) => /^stages\[(\d+)\](?:\.steps\[(\d+)\])?/.exec(path || "");
  const inStep = (path, si, ti) => { const m = pathAt(path); return !!m && Number(m[1]) === si && m[2] !== undefined && Number(m[2]) === ti; };
  const inStage = (path, si) => { const m = pathAt(path); return !!m && Number(m[1]) === si && m[2] === undefined; };
  const inRoute = (path) => !pathAt(path);

  function openDrawer(title, body, apply, remove, preview, concerns) {
    returnFocus = document.activeElement;
    drawerTitle.textContent = title;
    drawerBody.replaceChildren(body);
    applyDrawer = apply;
    deleteDrawer = remove;
    drawerCheck = preview ? { preview, concerns } : null;
    drawerSeq += 1;
    showDrawerProblems(concerns ? problems.filter((p) => concerns(p.path)) : []);
    document.getElementById("rb-drawer-delete").classList.toggle("d-none", !remove);
    drawer.showModal();
    const first = drawerBody.querySelector("input, select, textarea");
    if (first) first.focus();
  }
  function closeDrawer() {
    drawer.close();
    if (returnFocus && document.body.contains(returnFocus)) returnFocus.focus();
  }
  document.getElementById("rb-drawer-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const focus = applyDrawer && applyDrawer();
    drawer.close();
    changed(focus);
  });
  document.getElementById("rb-drawer-cancel").addEventListener("click", closeDrawer);
  document.getElementById("rb-drawer-x").addEventListener("click", closeDrawer);
  document.getElementById("rb-drawer-delete").addEventListener("click", () => {
    const focus = deleteDrawer && deleteDrawer();
    drawer.close();
    changed(focus);
  });

  let uid = 0;
  function field(label, control, hint, hidden) {
    uid += 1;
    const id = `rb-f-${uid}`;
    control.id = id;
    return h("div", { class: "mb-2" }, h("label", { class: hidden ? "visually-hidden" : "form-label", for: id }, label), control,
      hint ? h("div", { class: "form-text" }, hint) : null);
  }
  function check(label, checked, attrs) {
    uid += 1;
    const id = `rb-f-${uid}`;
    return h("div", { class: "form-check" },
      h("input", { class: "form-check-input", type: "checkbox", id, checked, ...attrs }),
      h("label", { class: "form-check-label", for: id }, label));
  }
  const select = (name, options, value) =>
    h("select", { class: "form-select", name }, options.map(([v, l]) => option(v, l, value ?? "")));
  const input = (name, value, attrs) => h("input", { class: "form-control", name, value: value ?? "", ...attrs });

  function namesFields(obj) {
    const name = obj.name || {};
    return [
      h("div", { class: "row g-2" },
        h("div", { class: "col-6" }, field(W.nameRu, input("name_ru", name.ru))),
        h("div", { class: "col-6" }, field(W.nameEn, input("name_en", name.en)))),
    ];
  }
  function readNames(form) {
    return { ru: form.querySelector("[name=name_ru]").value.trim(), en: form.querySelector("[name=name_en]").value.trim() };
  }

  // The condition editor: a group (AND or OR) of field-operator-value rows and of
  // groups one level down (AND inside OR, OR inside AND); a plain sentence under it.
  const isRow = (c) => c && typeof c === "object" && typeof c.field === "string";
  const groupOf = (c) => (c.all ? ["all", c.all] : c.any ? ["any", c.any] : null);
  function editable(cond, depth) {
    if (!cond) return true;
    if (isRow(cond)) return true;
    const g = groupOf(cond);
    if (!g || !Array.isArray(g[1])) return false;
    return g[1].every((c) => isRow(c) || (depth < 1 && groupOf(c) && editable(c, depth + 1)));
  }
  function conditionEditor(cond) {
    const wrap = h("fieldset", { class: "rb-cond border rounded p-2 mb-2" }, h("legend", { class: "h6 float-none w-auto px-1 mb-1" }, W.conditions));
    if (!editable(cond, 0)) {
      wrap.append(h("p", { class: "small" }, W.complexCondition), h("p", { class: "small" }, `${W.runsIf} ${conditionText(cond)}`));
      wrap.read = () => cond;
      return wrap;
    }
    const sentence = h("p", { class: "small text-body-secondary mb-0 rb-cond-sentence", "aria-live": "polite" });
    const fieldOptions = [["", W.choose], ...fields.filter((f) => OPS_BY_KIND[f.kind] || f.kind === "text").map((f) => [f.key, f.label])];

    function valueControl(fkey, value) {
      const f = fieldOf(fkey);
      if (!f) return input("cond_value", value, { "aria-label": W.value });
      if (f.kind === "bool") return h("select", { class: "form-select", name: "cond_value", "aria-label": W.value }, option("true", W.yes, String(value)), option("false", W.no, String(value)));
      if (f.kind === "department") return h("select", { class: "form-select", name: "cond_value", "aria-label": W.value }, S.facts.departments.map((d) => option(d.key, d.label, value)));
      if (f.choices.length) return h("select", { class: "form-select", name: "cond_value", "aria-label": W.value }, f.choices.map((c) => option(c.value, c.label, value)));
      const type = f.kind === "number" || f.kind === "money" ? "number" : f.kind === "date" ? "date" : "text";
      return input("cond_value", value, { type, "aria-label": W.value });
    }
    // One group: its AND/OR choice, its rows and (at the top) its inner groups.
    function group(c, depth, fresh) {
      const [mode, items] = c ? (groupOf(c) || ["all", [c]]) : [fresh || "all", []];
      const box = h("div", { class: depth ? "rb-cond-group border-start border-2 ps-2 mb-2" : "rb-cond-group", "data-cond-group": depth });
      const modeSel = select("cond_mode", [["all", W.matchAll], ["any", W.matchAny]], mode);
      const list = h("div", { class: "rb-cond-rows" });
      function addRow(rc) {
        const fsel = h("select", { class: "form-select", name: "cond_field", "aria-label": W.field }, fieldOptions.map(([v, l]) => option(v, l, rc.field || "")));
        const opCell = h("div", { class: "col-3 rb-cond-op" });
        const valCell = h("div", { class: "col-4 rb-cond-value" });
        function refresh(keep) {
          const f = fieldOf(fsel.value);
          const ops = OPS_BY_KIND[(f && f.kind) || "string"] || OPS_BY_KIND.string;
          const opSel = h("select", { class: "form-select", name: "cond_op", "aria-label": W.operator }, ops.map((o) => option(o, WORDS.ops[o], keep ? rc.op || "eq" : "eq")));
          opSel.addEventListener("change", () => { valCell.classList.toggle("invisible", ["empty", "not_empty"].includes(opSel.value)); });
          opCell.replaceChildren(opSel);
          valCell.replaceChildren(valueControl(fsel.value, keep ? rc.value : ""));
          valCell.classList.toggle("invisible", ["empty", "not_empty"].includes(opSel.value));
          update();
        }
        fsel.addEventListener("change", () => refresh(false));
        const row = h("div", { class: "row g-1 mb-1 rb-cond-row" },
          h("div", { class: "col-4 rb-cond-field" }, fsel), opCell, valCell,
          h("div", { class: "col-1" }, h("button", { type: "button", class: "btn btn-sm btn-outline-danger", "aria-label": W.removeCondition, title: W.removeCondition, onclick: () => { row.remove(); update(); } }, h("i", { class: "bi bi-x-lg", "aria-hidden": "true" }))));
        list.append(row);
        refresh(true);
        return row;
      }
      function addGroup(gc) {
        const inner = group(gc, depth + 1, modeSel.value === "all" ? "any" : "all");
        const remove = h("button", { type: "button", class: "btn btn-sm btn-link text-danger p-0", onclick: () => { inner.remove(); update(); } }, W.removeGroup);
        inner.append(remove);
        list.append(inner);
        return inner;
      }
      items.forEach((it) => (isRow(it) ? addRow(it) : addGroup(it)));
      const tools = h("div", { class: "d-flex flex-wrap gap-2 mb-2" },
        h("button", { type: "button", class: "btn btn-sm btn-outline-secondary", "data-add-condition": depth, onclick: () => { addRow({}).querySelector("select").focus(); } },
          h("i", { class: "bi bi-plus-lg", "aria-hidden": "true" }), ` ${W.addCondition}`),
        depth === 0 ? h("button", { type: "button", class: "btn btn-sm btn-outline-secondary", "data-add-group": "", onclick: () => { const g = addGroup(null); g.querySelector("[data-add-condition]").click(); } },
          h("i", { class: "bi bi-plus-lg", "aria-hidden": "true" }), ` ${W.addGroup}`) : null);
      const modeField = field(W.conditions, modeSel, null, true);
      modeField.classList.add("rb-cond-mode");
      box.append(modeField, list, tools);
      box.read = () => {
        const found = [];
        for (const child of list.children) {
          if (child.classList.contains("rb-cond-row")) {
            const fkey = child.querySelector("[name=cond_field]").value;
            if (!fkey) continue;
            const op = child.querySelector("[name=cond_op]").value;
            const raw = child.querySelector("[name=cond_value]").value;
            const f = fieldOf(fkey);
            let value = raw;
            if (f && f.kind === "bool") value = raw === "true";
            else if (f && (f.kind === "number" || f.kind === "money") && raw !== "" && !Number.isNaN(Number(raw))) value = Number(raw);
            const out = { field: fkey, op };
            if (op !== "empty" && op !== "not_empty") out.value = value;
            found.push(out);
          } else if (child.read) {
            const inner = child.read();
            if (inner) found.push(inner);
          }
        }
        if (!found.length) return null;
        if (found.length === 1) return found[0];
        return { [modeSel.value]: found };
      };
      return box;
    }
    let top = null;
    function update() {
      if (!top) return;
      // AND/OR is asked only where there is something to join.
      for (const g of [top, ...top.querySelectorAll(".rb-cond-group")]) {
        const rows = g.querySelector(".rb-cond-rows");
        g.querySelector(".rb-cond-mode").classList.toggle("d-none", rows.children.length < 2);
      }
      const c = top.read();
      sentence.textContent = c ? `${W.runsIf} ${conditionText(c)}` : W.noCondition;
    }
    top = group(cond, 0);
    top.addEventListener("change", update);
    top.addEventListener("input", update);
    wrap.append(top, sentence);
    update();
    wrap.read = () => top.read();
    return wrap;
  }

  function assigneeEditor(a) {
    const box = h("fieldset", { class: "border rounded p-2 mb-2" }, h("legend", { class: "h6 float-none w-auto px-1 mb-1" }, W.assignee));
    const current = a ? Object.keys(a).find((k) => k !== "levels" && a[k] !== false && a[k] !== null) : "";
    const kindSel = select("assignee_kind", [["", W.choose], ...Object.entries(WORDS.assignees)], current || "");
    const detail = h("div", {});
    const userFields = fields.filter((f) => f.kind === "user");
    function refresh() {
      const k = kindSel.value;
      const v = a && k === current ? a[k] : "";
      detail.replaceChildren();
      const pick = (list) => field(W.value, select("assignee_value", [["", W.choose], ...list.map((x) => [x.key, x.label])], v));
      if (k === "user") detail.append(pick(S.facts.users));
      else if (k === "role") detail.append(pick(S.facts.roles));
      else if (k === "manager_of") {
        detail.append(pick([{ key: "initiator", label: W.ofInitiator }, ...userFields]));
        detail.append(field(W.levels, input("assignee_levels", (a && a.levels) || 1, { type: "number", min: 1, max: 10 })));
      } else if (k === "department_head") detail.append(pick([{ key: "initiator", label: W.initiatorDept }, ...S.facts.departments]));
      else if (k === "department_head_field") detail.append(pick(fields.filter((f) => f.kind === "choice")));
      else if (k === "user_field") detail.append(pick(userFields));
      else if (k === "users_field") detail.append(pick(fields.filter((f) => f.kind === "users" || f.kind === "user")));
      else if (k === "guest_field") detail.append(pick(fields.filter((f) => f.kind === "string")));
      else if (k === "guests") detail.append(field(W.emails, h("textarea", { class: "form-control", name: "assignee_emails", rows: 2 }, (v || []).join("\n"))));
    }
    kindSel.addEventListener("change", refresh);
    box.append(field(W.assignee, kindSel, null, true), detail);
    refresh();
    box.kind = () => kindSel.value;
    box.read = () => {
      const k = kindSel.value;
      if (!k) return null;
      if (k === "initiator" || k === "counterparty_contacts") return { [k]: true };
      if (k === "guests") return { guests: box.querySelector("[name=assignee_emails]").value.split(/[\s,;]+/).filter(Boolean) };
      const out = { [k]: box.querySelector("[name=assignee_value]").value };
      if (k === "manager_of") {
        const levels = Number(box.querySelector("[name=assignee_levels]").value || 1);
        if (levels > 1) out.levels = levels;
      }
      return out;
    };
    return box;
  }

  // "Send back to an earlier stage": the stages up to this one a decider may choose.
  function returnToEditor(si, chosen) {
    const box = h("fieldset", { class: "border rounded p-2 mb-2", "data-block": "return-to" },
      h("legend", { class: "h6 float-none w-auto px-1 mb-1" }, W.returnTo),
      h("p", { class: "small text-body-secondary mb-1" }, W.returnToHint));
    def.stages.slice(0, si + 1).forEach((st, i) =>
      box.append(check(`${i + 1}. ${textOf(st.name, st.key)}`, chosen.includes(st.key), { name: "return_to", value: st.key })));
    box.read = () => [...box.querySelectorAll("[name=return_to]:checked")].map((x) => x.value);
    return box;
  }

  // A calendar invitation (.ics) sent with a notice when the step is done.
  function inviteEditor(action) {
    const inv = (action && action.invite) || {};
    const on = check(W.inviteOn, !!action, { name: "invite_on" });
    const dates = fields.filter((f) => f.kind === "date").map((f) => [f.key, f.label]);
    const strings = fields.filter((f) => f.kind === "string").map((f) => [f.key, f.label]);
    const dateSel = select("invite_date", [["", W.choose], ...dates], inv.date_field || "");
    const timeSel = select("invite_time_field", [["", W.inviteFixedTime], ...strings], inv.time_field || "");
    const timeIn = input("invite_time", inv.time || "10:00", { pattern: "[0-2][0-9]:[0-5][0-9]", placeholder: "10:00" });
    const minutes = input("invite_minutes", inv.duration_minutes || 60, { type: "number", min: 5, max: 1440 });
    const place = input("invite_location", inv.location || "");
    const who = input("invite_notify", ((action && action.notify) || ["initiator"]).join(", "));
    const summary = inv.summary || {};
    const sumRu = input("invite_summary_ru", summary.ru || "");
    const sumEn = input("invite_summary_en", summary.en || "");
    const body = h("div", { class: action ? "" : "d-none" },
      h("div", { class: "row g-2" }, h("div", { class: "col-6" }, field(W.inviteDate, dateSel)), h("div", { class: "col-6" }, field(W.inviteTimeField, timeSel))),
      h("div", { class: "row g-2" }, h("div", { class: "col-6" }, field(W.inviteTime, timeIn)), h("div", { class: "col-6" }, field(W.inviteMinutes, minutes))),
      h("div", { class: "row g-2" }, h("div", { class: "col-6" }, field(W.inviteSummaryRu, sumRu)), h("div", { class: "col-6" }, field(W.inviteSummaryEn, sumEn))),
      field(W.inviteLocation, place), field(W.inviteNotify, who, W.inviteNotifyHint));
    on.querySelector("input").addEventListener("change", (e) => body.classList.toggle("d-none", !e.target.checked));
    const fixedTime = () => timeIn.parentElement.classList.toggle("d-none", !!timeSel.value);
    timeSel.addEventListener("change", fixedTime);
    fixedTime();
    const box = h("fieldset", { class: "border rounded p-2 mb-2", "data-block": "invite" },
      h("legend", { class: "h6 float-none w-auto px-1 mb-1" }, W.invite), on, body);
    box.read = () => {
      if (!on.querySelector("input").checked || box.classList.contains("d-none")) return {};
      const invite = { date_field: dateSel.value || null, duration_minutes: Number(minutes.value) || 60 };
      if (timeSel.value) invite.time_field = timeSel.value; else invite.time = timeIn.value.trim();
      if (place.value.trim()) invite.location = place.value.trim();
      if (sumRu.value.trim() || sumEn.value.trim()) invite.summary = { ru: sumRu.value.trim(), en: sumEn.value.trim() };
      const notify = who.value.split(/[,\s]+/).map((x) => x.trim()).filter(Boolean);
      return { notify: notify.length ? notify : ["initiator"], invite };
    };
    return box;
  }

  function openStep(si, ti) {
    const step = def.stages[si].steps[ti];
    const form = h("div", {});
    const kindSel = select("kind", Object.entries(WORDS.kinds), step.kind || "approve");
    const keyIn = input("key", step.key, { pattern: "[a-z][a-z0-9_]*" });
    const assignee = assigneeEditor(step.assignee);
    // What the drawer shows a guest of the step: the fields checked here, nothing else.
    const guestBox = h("fieldset", { class: "border rounded p-2 mb-2", "data-guest-fields": "" }, h("legend", { class: "h6 float-none w-auto px-1 mb-1" }, W.guestFields),
      h("p", { class: "small text-body-secondary mb-1" }, W.guestFieldsHint),
      h("div", { class: "rb-checks-grid" }, fields.filter((f) => !f.key.includes(".")).map((f) => check(f.label, (step.guest_fields || []).includes(f.key), { name: "guest_field", value: f.key }))));
    const GUEST_KINDS = ["guests", "guest_field", "counterparty_contacts"];
    function refreshGuestBox() {
      const k = assignee.kind();
      guestBox.classList.toggle("d-none", !GUEST_KINDS.includes(k) && !(step.guest_fields || []).length);
    }
    assignee.addEventListener("change", refreshGuestBox);
    refreshGuestBox();
    const q = step.quorum ?? "";
    const quorum = h("fieldset", { class: "mb-2" }, h("legend", { class: "form-label fs-6 mb-1" }, W.quorum),
      ...[["", "—"], ["any", W.quorumAny], ["all", W.quorumAll]].map(([v, l]) => {
        uid += 1;
        return h("div", { class: "form-check form-check-inline" },
          h("input", { class: "form-check-input", type: "radio", name: "quorum", value: v, id: `rb-f-${uid}`, checked: String(q) === v }),
          h("label", { class: "form-check-label", for: `rb-f-${uid}` }, l));
      }),
      h("div", { class: "d-inline-flex align-items-center gap-1" },
        h("label", { class: "small", for: "rb-quorum-n" }, W.quorumN),
        h("input", { class: "form-control form-control-sm rb-narrow", type: "number", min: 1, id: "rb-quorum-n", name: "quorum_n", value: typeof q === "number" ? q : "" })));
    const due = step.due || {};
    const dueKind = due.working_days !== undefined && due.working_days !== null ? "working_days" : due.hours ? "hours" : due.field ? "field" : "";
    const dueSel = select("due_kind", [["", W.dueNone], ["working_days", W.dueWorkingDays], ["hours", W.dueHours], ["field", W.dueField]], dueKind);
    const dueVal = input("due_value", dueKind === "field" ? due.field : due[dueKind] ?? "", { "aria-label": W.value });
    const remind = check(W.remind, due.reminder !== false, { name: "due_reminder" });
    const remindBefore = input("remind_before", due.remind_before ? due.remind_before.working_days : "", { type: "number", min: 1 });
    const escalate = input("escalate_after", due.escalate_after ? due.escalate_after.working_days : "", { type: "number", min: 1 });
    const outcomesBox = h("fieldset", { class: "mb-2" }, h("legend", { class: "form-label fs-6 mb-1" }, W.outcomes));
    function refreshOutcomes() {
      outcomesBox.querySelectorAll(".form-check").forEach((n) => n.remove());
      const allowed = KIND_OUTCOMES[kindSel.value] || [];
      const chosen = step.outcomes && step.outcomes.length ? step.outcomes : allowed;
      allowed.forEach((o) => outcomesBox.append(check(WORDS.outcomes[o], chosen.includes(o), { name: "outcome", value: o })));
    }
    kindSel.addEventListener("change", refreshOutcomes);
    refreshOutcomes();
    const otp = check(W.confirmOtp, step.confirm === "otp", { name: "confirm_otp" });
    const statusAction = (step.actions || []).find((x) => x.set_status);
    const sysStatus = select("sys_status", [["", W.choose], ...S.facts.statuses.map((s) => [s.key, s.label])], statusAction ? statusAction.set_status : "");
    // any other kind: the status the document gets when the step is done (on_done)
    const doneStatus = select("done_status", [["", W.choose], ...S.facts.statuses.map((s) => [s.key, s.label])], (step.on_done && step.on_done.set_status) || "");
    const doneBox = field(W.doneStatus, doneStatus);
    const cond = conditionEditor(step.when);
    const backBox = returnToEditor(si, step.return_to || []);
    const inviteBox = inviteEditor(step.on_done && step.on_done.invite ? step.on_done : null);
    // request_info / task: the fields the assignee fills (and which are required);
    // wait: until a date field (plus days) or for a number of working days.
    const fillable = fields.filter((f) => !f.key.includes(".") && f.kind !== "file");
    const askBox = h("fieldset", { class: "border rounded p-2 mb-2" }, h("legend", { class: "h6 float-none w-auto px-1 mb-1" }, W.askFields),
      fillable.map((f) => h("div", { class: "d-flex gap-3" },
        check(f.label, (step.fields || []).includes(f.key), { name: "ask_field", value: f.key }),
        check(W.required, (step.required_fields || []).includes(f.key), { name: "ask_required", value: f.key }))));
    const waitField = select("wait_until", [["", W.choose], ...fields.filter((f) => f.kind === "date").map((f) => [f.key, f.label])], step.wait_until || "");
    const waitOffset = input("wait_offset_days", step.wait_offset_days || "", { type: "number" });
    const waitFor = input("wait_for", step.wait_for ? step.wait_for.working_days || "" : "", { type: "number", min: 1 });
    const waitBox = h("fieldset", { class: "border rounded p-2 mb-2" }, h("legend", { class: "h6 float-none w-auto px-1 mb-1" }, WORDS.kinds.wait),
      field(W.waitUntil, waitField), field(W.waitOffset, waitOffset), field(W.waitFor, waitFor));
    function refreshKindBoxes() {
      askBox.classList.toggle("d-none", !["request_info", "task"].includes(kindSel.value));
      waitBox.classList.toggle("d-none", kindSel.value !== "wait");
      doneBox.classList.toggle("d-none", kindSel.value === "system");
      backBox.classList.toggle("d-none", !(KIND_OUTCOMES[kindSel.value] || []).includes("return"));
      inviteBox.classList.toggle("d-none", kindSel.value === "system");
    }
    kindSel.addEventListener("change", refreshKindBoxes);
    refreshKindBoxes();
    form.append(
      ...namesFields(step),
      h("div", { class: "row g-2" }, h("div", { class: "col-7" }, field(W.kind, kindSel)), h("div", { class: "col-5" }, field(W.key, keyIn))),
      assignee, guestBox, quorum, cond,
      h("fieldset", { class: "border rounded p-2 mb-2" }, h("legend", { class: "h6 float-none w-auto px-1 mb-1" }, W.due),
        h("div", { class: "row g-2" }, h("div", { class: "col-6" }, field(W.due, dueSel, null, true)), h("div", { class: "col-6" }, field(W.value, dueVal, null, true))),
        remind, field(W.remindBefore, remindBefore), field(W.escalate, escalate)),
      askBox, waitBox, outcomesBox, backBox, otp, field(W.setStatus, sysStatus), doneBox, inviteBox,
    );
    // Keys the drawer does not edit (blocks added later, other features) are kept.
    const MANAGED = ["key", "kind", "name", "assignee", "quorum", "when", "due", "outcomes", "confirm", "actions", "guest_fields", "fields", "required_fields", "wait_until", "wait_offset_days", "wait_for", "on_done", "return_to"];
    const build = () => {
      const next = { key: keyIn.value.trim() || step.key, kind: kindSel.value };
      for (const [k, v] of Object.entries(step)) if (!MANAGED.includes(k)) next[k] = v;
      const name = readNames(form);
      if (name.ru || name.en) next.name = name;
      const who = assignee.read();
      if (who && !["wait", "system"].includes(next.kind)) next.assignee = who;
      const qv = form.querySelector("[name=quorum]:checked");
      const qn = form.querySelector("[name=quorum_n]").value;
      if (qn) next.quorum = Number(qn);
      else if (qv && qv.value) next.quorum = qv.value;
      const when = cond.read();
      if (when) next.when = when;
      if (dueSel.value && dueVal.value !== "") {
        const d = {};
        d[dueSel.value] = dueSel.value === "field" ? dueVal.value : Number(dueVal.value);
        if (!form.querySelector("[name=due_reminder]").checked) d.reminder = false;
        if (remindBefore.value) d.remind_before = { working_days: Number(remindBefore.value) };
        if (escalate.value) d.escalate_after = { working_days: Number(escalate.value) };
        next.due = d;
      }
      const allowed = KIND_OUTCOMES[next.kind] || [];
      const chosen = [...form.querySelectorAll("[name=outcome]:checked")].map((x) => x.value);
      if (allowed.length && chosen.length !== allowed.length) next.outcomes = chosen;
      if (next.kind === "sign" && form.querySelector("[name=confirm_otp]").checked) next.confirm = "otp";
      if (next.kind === "system" && sysStatus.value) next.actions = [{ set_status: sysStatus.value }, ...(step.actions || []).filter((x) => !x.set_status)];
      const shown = [...form.querySelectorAll("[name=guest_field]:checked")].map((x) => x.value);
      if (shown.length && GUEST_KINDS.includes(assignee.kind())) next.guest_fields = shown;
      if (["request_info", "task"].includes(next.kind)) {
        const asked = [...form.querySelectorAll("[name=ask_field]:checked")].map((x) => x.value);
        if (asked.length) next.fields = asked;
        const required = [...form.querySelectorAll("[name=ask_required]:checked")].map((x) => x.value).filter((k) => asked.includes(k));
        if (required.length) next.required_fields = required;
      }
      if (next.kind === "wait") {
        if (waitField.value) next.wait_until = waitField.value;
        if (waitOffset.value && Number(waitOffset.value)) next.wait_offset_days = Number(waitOffset.value);
        if (waitFor.value) next.wait_for = { working_days: Number(waitFor.value) };
      }
      if (next.kind === "system" && !next.actions && step.actions) next.actions = step.actions;
      if (next.kind !== "system") {
        const rest = { ...(step.on_done || {}) };
        delete rest.set_status;
        delete rest.invite;
        delete rest.notify;
        if (doneStatus.value) rest.set_status = doneStatus.value;
        Object.assign(rest, inviteBox.read());
        if (Object.keys(rest).length) next.on_done = rest;
      }
      if ((KIND_OUTCOMES[next.kind] || []).includes("return")) {
        const back = backBox.read();
        if (back.length) next.return_to = back;
      }
      return next;
    };
    openDrawer(`${W.step}: ${textOf(step.name, step.key)}`, form, () => {
      def.stages[si].steps[ti] = build();
      return `#rb-step-${si}-${ti}`;
    }, () => {
      def.stages[si].steps.splice(ti, 1);
      return `[data-add-step="${si}"]`;
    }, (d) => { d.stages[si].steps[ti] = build(); }, (path) => inStep(path, si, ti));
  }

  function openStage(si) {
    const stage = def.stages[si];
    const form = h("div", {});
    const keyIn = input("key", stage.key, { pattern: "[a-z][a-z0-9_]*" });
    const cond = conditionEditor(stage.when);
    form.append(...namesFields(stage), field(W.key, keyIn), cond);
    const build = (target) => {
      target.name = readNames(form);
      target.key = keyIn.value.trim() || target.key;
      const when = cond.read();
      if (when) target.when = when; else delete target.when;
    };
    openDrawer(`${W.stage} ${si + 1}`, form, () => {
      build(stage);
      return `#rb-stage-edit-${si}`;
    }, () => {
      def.stages.splice(si, 1);
      return "#rb-add-stage";
    }, (d) => build(d.stages[si]), (path) => inStage(path, si));
  }

  // Who a route notice goes to (route words): the initiator, the route owner, a
  // role's holders, the people of a user field. Words the builder does not offer are kept.
  function recipientOptions() {
    return [["initiator", W.toInitiator], ["owner", W.toOwner],
      ...S.facts.roles.map((r) => [`role:${r.key}`, `${WORDS.assignees.role}: ${r.label}`]),
      ...fields.filter((f) => ["user", "users"].includes(f.kind)).map((f) => [`field:${f.key}`, `${W.toField}: ${f.label}`])];
  }
  function recipientText(word) {
    const found = recipientOptions().find(([v]) => v === word);
    return found ? found[1] : word;
  }
  function recipientsEditor(chosen, legend) {
    const box = h("fieldset", { class: "mb-2 rb-recipients" }, h("legend", { class: "form-label fs-6 mb-1" }, legend));
    const known = recipientOptions();
    const kept = (chosen || []).filter((w) => !known.some(([v]) => v === w));
    box.append(h("div", { class: "rb-checks-grid" }, known.map(([v, l]) => check(l, (chosen || []).includes(v), { name: "notify_to", value: v }))));
    box.read = () => [...[...box.querySelectorAll("[name=notify_to]:checked")].map((x) => x.value), ...kept];
    return box;
  }

  const ACTION_KINDS = ["set_status", "notify", "file_to", "remind", "generate"];
  // One on-finish action: its kind and what it needs.
  function actionRow(action, list) {
    const kind = ACTION_KINDS.find((k) => action[k] !== undefined && action[k] !== null) || "";
    const row = h("div", { class: "rb-action border rounded p-2 mb-2", "data-action": kind });
    if (kind === "" && Object.keys(action).length) {
      // set_field and anything newer: kept as it is.
      row.append(h("p", { class: "small mb-1" }, W.actionKept), h("code", { class: "small" }, JSON.stringify(action)));
      row.read = () => action;
    } else {
      const kindSel = select("action_kind", [["", W.choose], ...ACTION_KINDS.map((k) => [k, WORDS.actions[k]])], kind);
      const detail = h("div", {});
      const fill = () => {
        const k = kindSel.value;
        const same = k === kind;
        detail.replaceChildren();
        if (k === "set_status") detail.append(field(W.setStatus, select("action_status", [["", W.choose], ...S.facts.statuses.map((x) => [x.key, x.label])], same ? action.set_status : "")));
        else if (k === "notify") detail.append(recipientsEditor(same ? action.notify : ["initiator"], W.notifyWho));
        else if (k === "file_to") detail.append(field(W.fileTo, input("action_file_to", same ? action.file_to : "", { placeholder: W.fileToExample }), W.fileToHint));
        else if (k === "generate") detail.append(field(W.generate, input("action_generate", same ? action.generate : "", { placeholder: "contract.docx" }), W.generateHint));
        else if (k === "remind") {
          const r = (same && action.remind) || {};
          detail.append(h("div", { class: "row g-2" },
            h("div", { class: "col-7" }, field(W.remindField, select("action_remind_field", [["", W.choose], ...fields.filter((f) => f.kind === "date").map((f) => [f.key, f.label])], r.before_field || ""))),
            h("div", { class: "col-5" }, field(W.remindDays, input("action_remind_days", r.days ?? 30, { type: "number", min: 0, max: 3650 })))),
          recipientsEditor(r.notify || ["initiator"], W.notifyWho));
        }
      };
      kindSel.addEventListener("change", fill);
      fill();
      row.append(h("div", { class: "d-flex gap-2 align-items-start" }, h("div", { class: "flex-grow-1" }, field(W.actionKind, kindSel, null, true)),
        h("button", { type: "button", class: "btn btn-sm btn-outline-danger", "aria-label": W.removeAction, title: W.removeAction, onclick: () => { row.remove(); list.dispatchEvent(new Event("change", { bubbles: true })); } }, h("i", { class: "bi bi-x-lg", "aria-hidden": "true" }))), detail);
      row.read = () => {
        const k = kindSel.value;
        const q = (name) => row.querySelector(`[name=${name}]`);
        const others = detail.querySelector(".rb-recipients");
        if (k === "set_status") return q("action_status").value ? { set_status: q("action_status").value } : null;
        if (k === "notify") { const to = others.read(); return to.length ? { notify: to } : null; }
        if (k === "file_to") return q("action_file_to").value.trim() ? { file_to: q("action_file_to").value.trim() } : null;
        if (k === "generate") return q("action_generate").value.trim() ? { generate: q("action_generate").value.trim() } : null;
        if (k === "remind") {
          const to = others.read();
          return { remind: { before_field: q("action_remind_field").value, days: Number(q("action_remind_days").value || 0), notify: to.length ? to : ["initiator"] } };
        }
        return null;
      };
    }
    list.append(row);
    return row;
  }
  // An action with several kinds ({set_status, notify}) becomes one row per kind.
  function splitActions(actions) {
    const out = [];
    for (const a of actions || []) {
      const mine = ACTION_KINDS.filter((k) => a[k] !== undefined && a[k] !== null);
      const rest = Object.fromEntries(Object.entries(a).filter(([k]) => !ACTION_KINDS.includes(k)));
      mine.forEach((k) => out.push({ [k]: a[k] }));
      if (Object.keys(rest).length) out.push(rest);
    }
    return out;
  }

  // Re-approval after a corrected version: whom a new round asks (three modes),
  // and whether the initiator may choose when resubmitting (on_return).
  function reapprovalBlock(ret) {
    uid += 1;
    const name = `rb-reask-${uid}`;
    const current = ret.reask || "all";
    const modes = [
      ["all", W.reaskAll, W.reaskAllHint],
      ["not_approved_even_if_changed", W.reaskNot, W.reaskNotHint],
      ["not_approved", W.reaskUnchanged, W.reaskUnchangedHint],
    ];
    const radios = modes.map(([value, label, hint]) => {
      uid += 1;
      const id = `rb-f-${uid}`;
      return h("div", { class: "form-check" },
        h("input", { class: "form-check-input", type: "radio", name, id, value, checked: value === current, "aria-describedby": `${id}-hint` }),
        h("label", { class: "form-check-label", for: id }, label),
        h("div", { class: "form-text mt-0", id: `${id}-hint` }, hint));
    });
    const choose = check(W.initiatorMayChooseReask, !!ret.initiator_may_choose_reask, { name: "may_choose_reask" });
    const node = h("fieldset", { class: "border rounded p-2 mb-2", "data-reapproval": "" },
      h("legend", { class: "h6 float-none w-auto px-1 mb-1" }, W.reapproval), ...radios, choose);
    const read = () => {
      const picked = node.querySelector(`[name="${name}"]:checked`);
      const out = { reask: picked ? picked.value : "all" };
      if (node.querySelector("[name=may_choose_reask]").checked) out.initiator_may_choose_reask = true;
      return out;
    };
    return { node, read };
  }

  function openRoute() {
    const form = h("div", {});
    const ret = def.on_return || {};
    const restart = select("restart", [["first_stage", W.restartFirst], ["same_stage", W.restartSame]], ret.restart || "first_stage");
    const reapproval = reapprovalBlock(ret);
    const stall = def.stall_alert || null;
    const stallHours = input("stall_hours", stall ? stall.hours : "", { type: "number", min: 1 });
    const stallTo = recipientsEditor(stall ? stall.notify : ["initiator"], W.notifyWho);
    const escalate = input("escalate_after", def.escalate_after ? def.escalate_after.working_days : "", { type: "number", min: 1 });
    const actionList = h("div", { class: "rb-actions" });
    splitActions(def.on_finish).forEach((a) => actionRow(a, actionList));
    const legend = (text) => h("legend", { class: "h6 float-none w-auto px-1 mb-1" }, text);
    const duplicates = select("duplicates", [["merge", W.duplicatesMerge], ["keep", W.duplicatesKeep]], def.duplicates || "merge");
    form.append(
      ...namesFields(def),
      h("fieldset", { class: "border rounded p-2 mb-2", id: "rb-on-finish" }, legend(W.onFinish),
        h("p", { class: "small text-body-secondary" }, W.onFinishHint),
        actionList,
        h("button", { type: "button", class: "btn btn-sm btn-outline-secondary", "data-add-action": "", onclick: () => { actionRow({ set_status: "" }, actionList).querySelector("select").focus(); } },
          h("i", { class: "bi bi-plus-lg", "aria-hidden": "true" }), ` ${W.addAction}`)),
      h("fieldset", { class: "border rounded p-2 mb-2", id: "rb-on-return" }, legend(W.onReturn),
        field(W.restart, restart), check(W.initiatorMayEdit, !!ret.initiator_may_edit, { name: "may_edit" })),
      reapproval.node,
      h("fieldset", { class: "border rounded p-2 mb-2", id: "rb-stall" }, legend(W.stallAlert),
        field(W.stallHours, stallHours, W.stallHint), stallTo),
      h("fieldset", { class: "border rounded p-2 mb-2", id: "rb-running-round" }, h("legend", { class: "h6 float-none w-auto px-1 mb-1" }, W.runningRound),
        field(W.duplicates, duplicates),
        check(W.initiatorMayEditRunning, !!def.initiator_may_edit_running, { name: "may_edit_running" })),
      field(W.escalate, escalate),
      check(W.bulkAllowed, !!def.bulk_allowed, { name: "bulk" }),
      check(W.guestsSeeNames, !!def.guests_see_names, { name: "guest_names" }),
    );
    const build = (target) => {
      target.name = readNames(form);
      const kept = { ...(target.on_return || {}) };
      delete kept.initiator_may_choose_reask;
      target.on_return = { ...kept, restart: restart.value, ...reapproval.read(), initiator_may_edit: form.querySelector("[name=may_edit]").checked };
      target.on_finish = [...actionList.children].map((row) => row.read()).filter(Boolean);
      if (!target.on_finish.length) delete target.on_finish;
      if (stallHours.value && Number(stallHours.value)) {
        const to = stallTo.read();
        target.stall_alert = { hours: Number(stallHours.value), notify: to.length ? to : ["initiator"] };
      } else delete target.stall_alert;
      if (escalate.value) target.escalate_after = { working_days: Number(escalate.value) }; else delete target.escalate_after;
      // Off is the engine's default: not written, so the diff shows no change.
      for (const [key, name] of [["bulk_allowed", "bulk"], ["guests_see_names", "guest_names"]]) {
        if (form.querySelector(`[name=${name}]`).checked) target[key] = true; else delete target[key];
      }
      if (duplicates.value === "keep") target.duplicates = "keep"; else delete target.duplicates;
      if (form.querySelector("[name=may_edit_running]").checked) target.initiator_may_edit_running = true; else delete target.initiator_may_edit_running;
    };
    openDrawer(W.editRoute, form, () => {
      build(def);
      return "#rb-route-settings";
    }, null, build, inRoute);
  }
  document.getElementById("rb-route-settings").addEventListener("click", openRoute);

  // --- the server ---------------------------------------------------------------------
  const csrf = () => (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  async function post(url, body) {
    const isForm = body instanceof FormData;
    const response = await fetch(url, {
      method: "POST",
      headers: isForm ? { "X-CSRFToken": csrf() } : { "X-CSRFToken": csrf(), "Content-Type": "application/json" },
      body: isForm ? body : JSON.stringify(body),
      credentials: "same-origin",
    });
    let data = {};
    try { data = await response.json(); } catch (_e) { data = { message: W.failed }; }
    return { ok: response.ok, status: response.status, data };
  }

  const saveState = document.getElementById("rb-save-state");
  const alertBox = document.getElementById("rb-alert");
  function showAlert(message, kind) {
    alertBox.className = message ? `alert alert-${kind || "danger"}` : "d-none";
    alertBox.textContent = message || "";
  }

  let checkTimer = null;
  function changed(focus) {
    dirty = true;
    saveState.textContent = W.unsaved;
    render(focus);
    clearTimeout(checkTimer);
    checkTimer = setTimeout(runCheck, 250);
  }

  let lastCheck = null;
  async function runCheck() {
    try {
      const { ok, data } = await post(S.urls.check, { definition: def });
      if (!ok) return;
      lastCheck = data;
      problems = data.problems;
      const active = document.activeElement && document.activeElement.id ? `#${document.activeElement.id}` : null;
      render(active && board.contains(document.activeElement) ? active : null);
      showChecks();
    } catch (_e) {
      saveState.textContent = W.failed;
    }
  }

  function placeOf(path) {
    const m = /^stages\[(\d+)\](?:\.steps\[(\d+)\])?/.exec(path || "");
    if (!m) return "";
    return `${W.stage} ${Number(m[1]) + 1}${m[2] !== undefined ? ` · ${W.step} ${Number(m[2]) + 1}` : ""}`;
  }
  const checksList = document.getElementById("rb-checks-list");
  function showChecks() {
    document.getElementById("rb-checks-count").textContent = problems.length;
    checksList.replaceChildren(...(problems.length ? problems.map((p) => {
      const m = /^stages\[(\d+)\](?:\.steps\[(\d+)\])?/.exec(p.path);
      const target = m ? (m[2] !== undefined ? `#rb-step-${m[1]}-${m[2]}` : `#rb-stage-edit-${m[1]}`) : "#rb-route-card-open";
      const where = m ? `${W.stage} ${Number(m[1]) + 1}${m[2] !== undefined ? ` · ${W.step} ${Number(m[2]) + 1}` : ""}` : W.editRoute;
      return h("li", {}, target ? h("a", { href: "#", onclick: (e) => { e.preventDefault(); const el = document.querySelector(target); if (el) el.focus(); } }, where) : where, ` — ${p.message}`);
    }) : [h("li", {}, W.noProblems)]));
  }
  document.getElementById("rb-checks-toggle").addEventListener("click", (e) => {
    const panel = document.getElementById("rb-checks");
    const open = panel.classList.toggle("d-none") === false;
    e.currentTarget.setAttribute("aria-expanded", String(open));
  });

  async function save() {
    saveState.textContent = W.saving;
    try {
      const { ok, data } = await post(S.urls.save, { definition: def, token });
      if (!ok) {
        saveState.textContent = "";
        showAlert(data.message);
        return false;
      }
      token = data.token;
      problems = data.problems;
      dirty = false;
      saveState.textContent = W.saved;
      showAlert("");
      render();
      showChecks();
      return true;
    } catch (_e) {
      saveState.textContent = W.failed;
      return false;
    }
  }
  document.getElementById("rb-save").addEventListener("click", save);

  // Publishing: the checks, the diff and the running processes, then a confirmation.
  const pubDialog = document.getElementById("rb-publish-dialog");
  const pubBody = document.getElementById("rb-publish-body");
  const pubConfirm = document.getElementById("rb-publish-confirm");
  document.getElementById("rb-publish").addEventListener("click", async () => {
    clearTimeout(checkTimer);
    await runCheck();
    if (!lastCheck) return;
    const next = S.publishedNumber + 1;
    pubBody.replaceChildren();
    if (problems.length) {
      pubBody.append(h("p", { class: "text-danger" }, W.publishFix),
        h("ul", {}, problems.map((p) => h("li", {}, p.message))));
      pubConfirm.classList.add("d-none");
    } else {
      pubBody.append(
        ...[lastCheck.diff.length ? h("ul", { class: "rb-diff" }, lastCheck.diff.map((d) => h("li", { class: `rb-diff-${d.kind}` }, d.text))) : h("p", {}, W.publishNoDiff),
        S.publishedNumber ? h("p", { class: "fw-semibold" }, fmt(W.publishRunning, { n: lastCheck.running, v: S.publishedNumber })) : null].filter(Boolean),
      );
      pubConfirm.classList.remove("d-none");
      pubConfirm.textContent = fmt(W.publishConfirm, { v: next });
    }
    pubDialog.showModal();
    (problems.length ? document.getElementById("rb-publish-cancel") : pubConfirm).focus();
  });
  document.getElementById("rb-publish-cancel").addEventListener("click", () => pubDialog.close());
  pubConfirm.addEventListener("click", async () => {
    const { ok, data } = await post(S.urls.publish, { definition: def, token });
    pubDialog.close();
    if (!ok) {
      if (data.problems && data.problems.length) problems = data.problems.filter((p) => p.path !== "definition");
      render();
      showChecks();
      showAlert(data.message);
      return;
    }
    token = data.token;
    S.publishedNumber = data.publishedNumber;
    S.published = JSON.parse(JSON.stringify(def));
    dirty = false;
    saveState.textContent = "";
    const versions = document.getElementById("rb-versions");
    versions.replaceChildren(h("span", { class: "badge text-bg-light border" }, `${W.published}: v${data.publishedNumber}`), saveState);
    showAlert(data.message, "success");
  });

  // Simulation.
  const sim = document.getElementById("rb-sim");
  const simForm = document.getElementById("rb-sim-form");
  const simResult = document.getElementById("rb-sim-result");
  function buildSimForm() {
    simForm.replaceChildren();
    simForm.append(h("div", { class: "col-md-3" }, field(W.simInitiator, select("initiator", S.facts.users.map((u) => [u.id, u.label]), ""))));
    for (const f of fields) {
      if (["file", "counterparty", "users", "user", "text", "url"].includes(f.kind) || f.key.includes(".")) continue;
      let control;
      if (f.kind === "bool") control = select(`v_${f.key}`, [["", "—"], ["true", W.yes], ["false", W.no]], "");
      else if (f.choices.length) control = select(`v_${f.key}`, [["", "—"], ...f.choices.map((c) => [c.value, c.label])], "");
      else control = input(`v_${f.key}`, "", { type: f.kind === "date" ? "date" : f.kind === "number" || f.kind === "money" ? "number" : "text" });
      control.dataset.field = f.key;
      simForm.append(h("div", { class: "col-md-3" }, field(f.label, control)));
    }
    simForm.append(h("div", { class: "col-md-3" }, h("button", { type: "submit", class: "btn btn-primary", id: "rb-sim-run" }, W.simRun)));
  }
  document.getElementById("rb-simulate-open").addEventListener("click", () => {
    if (!simForm.childElementCount) buildSimForm();
    sim.classList.remove("d-none");
    simForm.querySelector("select").focus();
  });
  simForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    simResult.replaceChildren();
    const values = {};
    simForm.querySelectorAll("[data-field]").forEach((el) => {
      if (el.value === "") return;
      values[el.dataset.field] = el.value === "true" ? true : el.value === "false" ? false : el.value;
    });
    const { ok, data } = await post(S.urls.simulate, { definition: def, initiator: simForm.querySelector("[name=initiator]").value, values });
    if (!ok) {
      simResult.replaceChildren(h("p", { class: "text-danger" }, data.message));
      return;
    }
    simResult.replaceChildren(h("ol", { class: "rb-sim-list" }, data.stages.map((st) => h("li", { class: st.runs ? "" : "rb-skipped" },
      h("strong", {}, st.name || st.key), ` — ${st.runs ? W.simRuns : W.simSkipped}`, st.reason ? `: ${st.reason}` : "",
      h("ul", {}, st.steps.map((sp) => h("li", { class: sp.runs ? "" : "rb-skipped", "data-sim-step": sp.key },
        h("i", { class: `bi ${sp.runs ? (sp.unresolved ? "bi-exclamation-triangle-fill text-danger" : "bi-check-circle") : "bi-dash-circle"}`, "aria-hidden": "true" }), " ",
        `${sp.name || sp.key}: `,
        sp.runs ? (sp.people.length ? sp.people.join(", ") : `${W.simNobody}${sp.reason ? ` (${sp.reason})` : ""}`) : `${W.simSkipped} — ${sp.reason}`)))))));
  });

  // Import.
  const impDialog = document.getElementById("rb-import-dialog");
  const impReport = document.getElementById("rb-import-report");
  document.getElementById("rb-import-open").addEventListener("click", () => { impReport.replaceChildren(); impDialog.showModal(); });
  document.getElementById("rb-import-cancel").addEventListener("click", () => impDialog.close());
  document.getElementById("rb-import-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const body = new FormData(e.currentTarget);
    body.append("token", token);
    const { ok, data } = await post(S.urls.import, body);
    if (!ok) {
      impReport.replaceChildren(h("div", { class: "alert alert-danger" }, h("p", { class: "mb-1" }, W.importFailed),
        h("ul", { class: "mb-0" }, (data.problems && data.problems.length ? data.problems : [data]).map((p) => h("li", {}, placeOf(p.path) ? `${placeOf(p.path)}: ${p.message}` : p.message)))));
      return;
    }
    def = data.definition;
    token = data.token;
    dirty = false;
    impDialog.close();
    saveState.textContent = W.imported;
    changed();
    dirty = false;
  });

  window.addEventListener("beforeunload", (e) => {
    if (dirty) e.preventDefault();
  });

  render();
  if (def.stages.length) runCheck();
})();
