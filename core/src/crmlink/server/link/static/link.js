// CRM Link: the end user's mapping page. Plain ES module, no dependencies, no build step.
//
// The page reads its link token from the URL fragment (never sent to any server), removes it
// from the address bar, and calls the token-scoped API under /api/v1/link with it as a bearer
// token. Which CRM fields fit which payload field is decided by the server (one source of truth:
// crmlink.mapping); this page only renders the choices and assembles the mapping JSON.

const API = new URL("../api/v1/link/", import.meta.url);
const EMBEDDED = window.parent !== window;
const ACTION_TEXT = {
  create: (o) => `Create a new ${o}`,
  update: (o) => `Update the linked ${o}`,
  delete: (o) => `Delete the linked ${o}`,
  noop: () => "Don't take any action",
  workflow: () => "Hand it to my CRM's workflow engine",
};
const NATURAL = { create: "create", update: "update", delete: "delete" };
const NOT_MAPPED = "";
const OPT_OUT = "__opt_out__";

const params = new URLSearchParams(location.hash.slice(1));
const token = params.get("token") || "";
const hostOrigin = params.get("origin") || "";
const expected = params.get("connection");
const wantsDefinition = params.get("definition") === "1";
history.replaceState(null, "", location.pathname + location.search);

const $ = (id) => document.getElementById(id);
const state = {
  summary: null,
  catalog: null,
  choices: {}, // slug -> choices for its chosen CRM object
  draft: {}, // slug -> UI model of the object's mapping
  closeReason: null,
};
let uid = 0;
const nextId = (prefix) => `${prefix}-${++uid}`;
const stableId = (...parts) => parts.join("--").replace(/[^A-Za-z0-9_-]/g, "_");

// -- talking to the host page and the server --------------------------------------------------
function tellHost(message) {
  if (!EMBEDDED || !hostOrigin) return;
  window.parent.postMessage({ source: "crmlink", ...message }, hostOrigin);
}

class ApiError extends Error {
  constructor(status, body) {
    const error = (body && body.error) || {};
    super(error.message || `the server answered ${status}`);
    this.status = status;
    this.type = error.type;
    this.errors = error.errors || [];
  }
}

async function api(method, path, body) {
  const init = { method, headers: { Authorization: `Bearer ${token}` } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const response = await fetch(new URL(path, API), init);
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

// -- small DOM helpers ---------------------------------------------------------------------------
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key in el && typeof value !== "string") el[key] = value;
    else el.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
  return el;
}

function announce(text) {
  $("save-status").textContent = text;
}

function crmField(slug, name) {
  const crm = state.choices[slug]?.crm_object;
  return crm?.fields?.[name];
}

function fieldText(slug, name) {
  const field = crmField(slug, name);
  return field ? `${field.label} (${name})` : name;
}

// -- a searchable, keyboard-first combobox (ARIA 1.2 pattern) -------------------------------------
function combobox({ id, label, hideLabel, options, value, onChange, placeholder, describe }) {
  const listId = `${id}-list`;
  let open = false;
  let active = -1;
  let shown = [];
  const input = h("input", {
    id, type: "text", role: "combobox", autocomplete: "off", spellcheck: "false",
    "aria-autocomplete": "list", "aria-expanded": "false", "aria-controls": listId,
    placeholder: placeholder || "Search by label or API name",
    "aria-describedby": describe,
  });
  const list = h("ul", { id: listId, role: "listbox", class: "listbox", hidden: true,
    "aria-label": label });
  const wrap = h("div", { class: "combo" },
    h("label", { for: id, class: hideLabel ? "sr-only" : "label", text: label }), input, list);
  const textOf = (v) => options.find((o) => o.value === v)?.text ?? "";
  input.value = textOf(value);

  function render(filter) {
    const q = (filter || "").trim().toLowerCase();
    shown = options.filter((o) => !q || o.special || o.text.toLowerCase().includes(q)
      || String(o.value).toLowerCase().includes(q));
    fill(list, ...shown.map((o, i) => h("li", {
      id: `${id}-opt-${i}`, role: "option", class: `option${o.suggested ? " suggested" : ""}${o.special ? " special" : ""}`,
      "aria-selected": String(o.value === value),
      onmousedown: (e) => { e.preventDefault(); choose(o); },
    }, o.suggested ? h("span", { class: "star", "aria-hidden": "true", text: "★ " }) : null,
    o.label ?? o.text, o.detail ? h("code", { text: o.detail }) : null,
    o.suggested ? h("span", { class: "sr-only", text: " (suggested)" }) : null)));
    if (!shown.length) list.append(h("li", { class: "option empty", text: "No matching fields" }));
  }
  function setActive(i) {
    active = Math.max(0, Math.min(i, shown.length - 1));
    [...list.children].forEach((li, n) => li.classList.toggle("active", n === active));
    const li = list.children[active];
    if (li && li.id) {
      input.setAttribute("aria-activedescendant", li.id);
      li.scrollIntoView({ block: "nearest" });
    }
  }
  function show(filter) {
    render(filter);
    open = true;
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    const current = (filter || "").trim()
      ? shown.findIndex((o) => !o.special)
      : shown.findIndex((o) => o.value === value);
    setActive(current >= 0 ? current : 0);
  }
  function hide() {
    open = false;
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }
  function choose(option) {
    value = option.value;
    input.value = textOf(value);
    hide();
    onChange(value);
  }
  input.addEventListener("input", () => show(input.value));
  input.addEventListener("focus", () => input.select());
  input.addEventListener("click", () => (open ? hide() : show("")));
  input.addEventListener("blur", () => { hide(); input.value = textOf(value); });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open) show("");
      else setActive(active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter") {
      if (open && shown[active]) { event.preventDefault(); choose(shown[active]); }
    } else if (event.key === "Escape") {
      if (open) {
        event.preventDefault();
        event.stopPropagation();
        hide();
        input.value = textOf(value);
        input.select();
      }
    } else if (event.key === "Tab") {
      if (open) hide();
    }
  });
  wrap.input = input;
  return wrap;
}

// -- the UI model of a mapping ----------------------------------------------------------------------
function fromMapping(slug, saved) {
  const objDef = state.summary.objects[slug];
  const model = { crm_object: saved ? saved.crm_object : undefined, reads: {}, events: {} };
  if (!saved) return model;
  model.reads = { ...(saved.fields || {}) };
  for (const [eventSlug, eventDef] of Object.entries(objDef.events || {})) {
    const savedEvent = (saved.events || {})[eventSlug];
    if (!savedEvent) continue;
    const event = {
      action: savedEvent.action, workflow: savedEvent.workflow || "",
      on_duplicate: savedEvent.on_duplicate || "fail", payload: {}, constants: [], extras: {},
    };
    for (const [target, rule] of Object.entries(savedEvent.fields || {})) {
      if (rule && "value" in rule) event.constants.push({ key: nextId("c"), target, value: rule.value });
      else if (rule && rule.from && !event.payload[rule.from]) event.payload[rule.from] = { target, ...rule };
      else event.extras[target] = rule;
    }
    model.events[eventSlug] = event;
    void eventDef;
  }
  return model;
}

function defaultEvent(slug, eventSlug) {
  const choices = state.choices[slug].events[eventSlug];
  const action = NATURAL[choices.type] || "noop";
  const event = { action, workflow: "", on_duplicate: "fail", payload: {}, constants: [], extras: {} };
  if (action === "create" || action === "update") {
    const taken = new Set();
    for (const field of choices.payload) {
      const pick = field.targets[action].find((t) => t.suggested && t.direct && !taken.has(t.name));
      if (pick) {
        taken.add(pick.name);
        event.payload[field.path] = { target: pick.name };
      }
    }
  }
  return event;
}

function defaultReads(slug) {
  const reads = {};
  for (const field of state.choices[slug].read) {
    const pick = (field.options || []).find((o) => o.suggested);
    reads[field.slug] = pick ? { from: pick.name } : null;
  }
  return reads;
}

function toMapping() {
  const objects = {};
  for (const slug of Object.keys(state.summary.objects)) {
    const model = state.draft[slug];
    if (!model || model.crm_object === undefined) continue; // no choice: the server says so
    if (model.crm_object === null) {
      objects[slug] = { crm_object: null };
      continue;
    }
    const events = {};
    for (const [eventSlug, event] of Object.entries(model.events)) {
      const out = { action: event.action };
      if (event.action === "workflow") out.workflow = event.workflow;
      if (event.action === "create" && event.on_duplicate === "update") out.on_duplicate = "update";
      if (["create", "update", "workflow"].includes(event.action)) {
        const fields = { ...event.extras };
        for (const [path, rule] of Object.entries(event.payload)) {
          if (!rule.target) continue;
          const { target, ...rest } = rule;
          fields[target] = { ...rest, from: path };
          if (!fields[target].transform) delete fields[target].transform;
        }
        for (const constant of event.constants) {
          if (constant.target) fields[constant.target] = { value: constant.value };
        }
        out.fields = fields;
      }
      events[eventSlug] = out;
    }
    objects[slug] = { crm_object: model.crm_object, fields: model.reads, events };
  }
  return { objects };
}

// -- the connection card ---------------------------------------------------------------------------
function renderConnection(message = "") {
  const s = state.summary;
  const card = $("connection");
  const ok = s.health.ok;
  const pill = h("span", { class: `pill ${ok ? "ok" : "bad"}`, text: ok ? "Connected" : "Needs attention" });
  const form = h("form", { class: "settings", novalidate: true });
  const advanced = h("div", { class: "advanced" });
  for (const field of s.settings_form) {
    const id = `setting-${field.name}`;
    const hint = field.secret
      ? (field.set ? "Saved; leave empty to keep it." : "Not set.")
      : field.description || "";
    const type = field.secret ? "password" : field.type === "string" ? "text" : "number";
    const control = field.type === "boolean"
      ? h("select", { id, name: field.name },
        h("option", { value: "", text: "(keep)" }), h("option", { value: "true", text: "Yes" }),
        h("option", { value: "false", text: "No" }))
      : h("input", { id, name: field.name, type, autocomplete: "off",
        value: field.value === null || field.value === undefined || typeof field.value === "object" ? "" : String(field.value),
        "aria-describedby": `${id}-hint` });
    const row = h("div", { class: "form-row", "data-path": `settings.${field.name}` },
      h("label", { for: id, text: field.label + (field.required ? " (required)" : "") }),
      control, h("p", { id: `${id}-hint`, class: "hint", text: hint }));
    (field.type === "string" ? form : advanced).append(row);
  }
  if (advanced.children.length) {
    form.append(h("details", { class: "advanced-settings" }, h("summary", { text: "Advanced settings" }), advanced));
  }
  form.append(h("div", { class: "form-actions" },
    h("button", { type: "submit", class: "secondary", text: "Save credentials" })));
  form.addEventListener("submit", saveSettings);
  const details = h("details", { open: !ok || undefined },
    h("summary", { text: "Enter or replace your CRM credentials" }), form);
  fill(card, 
    h("h2", { id: "connection-title", text: "Your CRM connection" }),
    h("p", { class: "conn-line" }, h("strong", { text: s.connector_label }), " · connection ",
      h("code", { text: s.connection_id }), " ", pill),
    ok ? null : h("p", { class: "notice bad", role: "alert",
      text: `Your CRM connection requires attention: ${s.health.message || "the CRM refused the credentials"}` }),
    details,
    h("p", { id: "settings-status", role: "status", class: "muted", tabindex: "-1", text: message }));
  card.hidden = false;
}

async function saveSettings(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const settings = {};
  for (const field of state.summary.settings_form) {
    const raw = form.elements[field.name].value;
    if (raw === "") continue;
    settings[field.name] = field.type === "integer" ? parseInt(raw, 10)
      : field.type === "number" ? Number(raw) : field.type === "boolean" ? raw === "true" : raw;
  }
  const status = $("settings-status");
  status.textContent = "Checking the credentials…";
  form.querySelectorAll(".error").forEach((e) => e.remove());
  try {
    state.summary = await api("PUT", "settings", { settings });
    renderConnection(state.summary.health.ok
      ? "Saved. Your CRM answered." : "Saved, but the CRM refused them.");
    if (state.summary.health.ok) await loadCatalog();
    $("settings-status").focus();
  } catch (error) {
    status.textContent = `Not saved: ${error.message}`;
    for (const item of error.errors || []) {
      const row = form.querySelector(`[data-path="${CSS.escape(item.path)}"]`);
      if (row) row.append(h("p", { class: "error", text: item.error }));
    }
  }
}

// -- objects ---------------------------------------------------------------------------------------
function objectLabel(slug) {
  return state.summary.objects[slug].label || slug;
}

function renderObjects() {
  const list = $("object-list");
  fill(list, ...Object.keys(state.summary.objects).map((slug) => {
    const section = h("section", { class: "card object", id: `object-${slug}` });
    renderObject(slug, section);
    return section;
  }));
  $("objects").hidden = false;
}

function statusPill(slug) {
  const status = state.summary.mapping_status[slug] || {};
  const values = Object.values(status);
  const model = state.draft[slug];
  if (model && model.crm_object === null) return h("span", { class: "pill", text: "Not mapped (opted out)" });
  if (values.length && values.every((v) => v === "mapped")) return h("span", { class: "pill ok", text: "Mapped" });
  return h("span", { class: "pill warn", text: "Needs mapping" });
}

function renderObject(slug, section = $(`object-${slug}`)) {
  const objDef = state.summary.objects[slug];
  const model = state.draft[slug];
  const titleId = `object-${slug}-title`;
  section.setAttribute("aria-labelledby", titleId);
  section.dataset.path = `objects.${slug}`;
  const crmId = `object-${slug}-crm`;
  const objects = state.catalog ? state.catalog.objects : [];
  const suggested = new Set(state.catalog ? state.catalog.suggestions[slug] || [] : []);
  const current = model.crm_object === undefined ? NOT_MAPPED : model.crm_object === null ? OPT_OUT : model.crm_object;
  const select = h("select", { id: crmId, onchange: (e) => chooseObject(slug, e.target.value),
    disabled: !state.catalog || undefined },
  h("option", { value: NOT_MAPPED, text: state.catalog ? "Choose a CRM object…" : "Connect your CRM first" }),
  suggested.size ? h("optgroup", { label: "Suggested" },
    objects.filter((o) => suggested.has(o.name)).map((o) => h("option", { value: o.name, text: `★ ${o.label} (${o.name})` }))) : null,
  h("optgroup", { label: "All objects" },
    objects.filter((o) => !suggested.has(o.name)).map((o) => h("option", { value: o.name, text: `${o.label} (${o.name})` }))),
  h("option", { value: OPT_OUT, text: "Don't map this object" }));
  if (current && current !== OPT_OUT && !objects.some((o) => o.name === current)) {
    select.append(h("option", { value: current, text: `${current} (not in your CRM)` }));
  }
  select.value = current;
  const body = [];
  if (model.crm_object) {
    const choices = state.choices[slug];
    if (!choices) body.push(h("p", { class: "muted", text: "Loading the CRM object's fields…" }));
    else if (choices.error) body.push(h("p", { class: "notice bad", text: choices.error }));
    else {
      body.push(h("h3", { text: "Events" }));
      for (const eventSlug of Object.keys(objDef.events || {})) body.push(renderEvent(slug, eventSlug));
      if (choices.read.length) body.push(renderReads(slug));
    }
  }
  fill(section, 
    h("div", { class: "object-head" }, h("h2", { id: titleId, text: objectLabel(slug) }), statusPill(slug)),
    objDef.description ? h("p", { class: "muted", text: objDef.description }) : null,
    h("div", { class: "form-row", "data-path": `objects.${slug}.crm_object` },
      h("label", { for: crmId, text: `Choose an object from your CRM for ${objectLabel(slug)}` }), select),
    ...body);
}

async function chooseObject(slug, value) {
  const model = state.draft[slug];
  if (value === OPT_OUT) model.crm_object = null;
  else if (value === NOT_MAPPED) model.crm_object = undefined;
  else {
    model.crm_object = value;
    model.events = {};
    model.reads = {};
    await loadChoices(slug, true);
  }
  renderObject(slug);
  $(`object-${slug}-crm`).focus();
}

async function loadChoices(slug, fresh) {
  const model = state.draft[slug];
  const name = model.crm_object;
  if (!name) return;
  try {
    state.choices[slug] = await api("GET", `catalog/${encodeURIComponent(name)}?object=${encodeURIComponent(slug)}`);
  } catch (error) {
    state.choices[slug] = { error: `Could not load ${name} from your CRM: ${error.message}` };
    return;
  }
  const objDef = state.summary.objects[slug];
  for (const eventSlug of Object.keys(objDef.events || {})) {
    if (fresh || !model.events[eventSlug]) model.events[eventSlug] = defaultEvent(slug, eventSlug);
  }
  if (fresh || !Object.keys(model.reads).length) model.reads = { ...defaultReads(slug), ...(fresh ? {} : model.reads) };
  for (const field of state.choices[slug].read) {
    if (!(field.slug in model.reads)) model.reads[field.slug] = null;
  }
}

// -- events ----------------------------------------------------------------------------------------
function renderEvent(slug, eventSlug) {
  const choices = state.choices[slug];
  const eventChoices = choices.events[eventSlug];
  const event = state.draft[slug].events[eventSlug];
  const crmLabel = choices.crm_object.label;
  const path = `objects.${slug}.events.${eventSlug}`;
  const actionId = `action-${slug}-${eventSlug}`;
  const rerender = () => { renderObject(slug); };
  const actionSelect = h("select", { id: actionId, onchange: (e) => {
    event.action = e.target.value;
    if (event.action === "update" || event.action === "create") {
      const fresh = defaultEvent(slug, eventSlug);
      if (!Object.keys(event.payload).length) event.payload = fresh.payload;
    }
    rerender();
    $(actionId).focus();
  } }, eventChoices.actions.map((a) => h("option", { value: a, text: ACTION_TEXT[a](crmLabel) })));
  actionSelect.value = event.action;
  const parts = [];
  const action = event.action;
  if (action === "workflow") {
    const wfId = `workflow-${slug}-${eventSlug}`;
    parts.push(h("div", { class: "form-row", "data-path": `${path}.workflow` },
      h("label", { for: wfId, text: "Workflow event name in your CRM" }),
      h("input", { id: wfId, type: "text", value: event.workflow, placeholder: "e.g. Contract_Drafted__e",
        oninput: (e) => { event.workflow = e.target.value; } })));
  }
  if (action === "create" || action === "update" || action === "workflow") {
    parts.push(renderWriteRules(slug, eventSlug, path));
  }
  if (action === "create") {
    const dupId = `dup-${slug}-${eventSlug}`;
    parts.push(h("div", { class: "check-row" },
      h("input", { id: dupId, type: "checkbox", checked: event.on_duplicate === "update",
        onchange: (e) => { event.on_duplicate = e.target.checked ? "update" : "fail"; } }),
      h("label", { for: dupId, text: `If my CRM reports a duplicate, update that ${crmLabel} instead` })));
  }
  if (action === "delete") parts.push(h("p", { class: "muted", text: `The linked ${crmLabel} is deleted from your CRM.` }));
  if (action === "noop") parts.push(h("p", { class: "muted", text: "Nothing happens in your CRM." }));
  return h("fieldset", { class: "event", "data-path": path },
    h("legend", {}, eventChoices.label, " ", h("span", { class: "tag", text: eventChoices.type })),
    eventChoices.description ? h("p", { class: "muted", text: eventChoices.description }) : null,
    h("div", { class: "form-row", "data-path": `${path}.action` },
      h("label", { for: actionId, text: "When this happens" }), actionSelect),
    ...parts);
}

function writeKind(action) {
  return action === "create" ? "create" : "update";
}

function renderWriteRules(slug, eventSlug, path) {
  const choices = state.choices[slug];
  const eventChoices = choices.events[eventSlug];
  const event = state.draft[slug].events[eventSlug];
  const kind = writeKind(event.action);
  const workflow = event.action === "workflow";
  const container = h("div", { class: "rules", "data-path": `${path}.fields` });
  const rerender = (focusId) => {
    renderObject(slug);
    if (focusId && $(focusId)) $(focusId).focus();
  };

  if (eventChoices.payload.length) {
    container.append(h("h4", { text: workflow ? "Data sent to the workflow" : `Fields of the ${choices.crm_object.label}` }));
  }
  for (const field of eventChoices.payload) {
    const rule = event.payload[field.path] || {};
    const targets = field.targets[kind];
    const rowPath = rule.target ? `${path}.fields.${rule.target}` : `${path}.payload.${field.path}`;
    const srcId = nextId("src");
    const row = h("div", { class: "rule", "data-path": rowPath });
    const source = h("div", { class: "source", id: srcId },
      h("span", { class: "source-label", text: field.label }), " ",
      h("code", { text: field.path }), " ", h("span", { class: "kind", text: field.kind }));
    let control;
    if (workflow) {
      const id = stableId("wf", slug, eventSlug, field.path);
      control = h("div", { class: "combo" }, h("label", { for: id, class: "sr-only", text: `Workflow field for ${field.label}` }),
        h("input", { id, type: "text", value: rule.target || "", placeholder: "Field name in the workflow event",
          oninput: (e) => { event.payload[field.path] = { target: e.target.value.trim() }; } }));
    } else {
      const options = [{ value: "", text: "Don't send this", special: true }].concat(targets.map((t) => {
        const f = crmField(slug, t.name);
        return { value: t.name, text: `${f.label} (${t.name})`, label: f.label, detail: t.name, suggested: t.suggested };
      }));
      const combo = combobox({
        id: stableId("write", slug, eventSlug, field.path),
        label: `${choices.crm_object.label} field for ${field.label}`, hideLabel: true, options,
        value: rule.target || "", describe: srcId,
        onChange: (value) => {
          const chosen = targets.find((t) => t.name === value);
          event.payload[field.path] = value ? { target: value, transform: chosen && !chosen.direct ? chosen.transforms[0] : undefined } : {};
          rerender(combo.input.id);
        },
      });
      control = combo;
      const chosen = targets.find((t) => t.name === rule.target);
      if (chosen && chosen.transforms.length) {
        const convId = stableId("conv", slug, eventSlug, field.path);
        const conv = h("select", { id: convId, onchange: (e) => {
          event.payload[field.path].transform = e.target.value || undefined;
        } },
        chosen.direct ? h("option", { value: "", text: "As is" }) : null,
        chosen.transforms.map((t) => h("option", { value: t, text: t === "date" ? "Convert to a date (ISO 8601)" : t === "datetime" ? "Convert to a date-time (ISO 8601)" : `Convert: ${t}` })));
        conv.value = rule.transform || (chosen.direct ? "" : chosen.transforms[0]);
        control = h("div", { class: "combo-with" }, combo,
          h("div", { class: "conversion" }, h("label", { for: convId, class: "label", text: "Conversion" }), conv));
      }
    }
    row.append(source, h("span", { class: "arrow", "aria-hidden": "true", text: "→" }), control);
    container.append(row);
  }

  if (!workflow) {
    container.append(h("h4", { text: "Fixed values" }));
    const targets = eventChoices.constants[kind];
    event.constants.forEach((constant, index) => {
      container.append(renderConstant(slug, path, event, constant, index, targets, rerender));
    });
    const addId = `add-${slug}-${eventSlug}`;
    container.append(h("button", { type: "button", class: "secondary small", id: addId,
      text: "Add a fixed value", onclick: () => {
        const key = nextId("c");
        event.constants.push({ key, target: "", value: "" });
        rerender();
        const row = container.ownerDocument.querySelector(`[data-key="${key}"] input`);
        const fresh = document.querySelector(`#object-${CSS.escape(slug)} [data-key="${key}"] input`);
        (fresh || row)?.focus();
      } }));
  }
  if (event.action === "create") container.append(renderRequired(slug, eventSlug, event, rerender));
  return container;
}

function renderConstant(slug, path, event, constant, index, targets, rerender) {
  const field = constant.target ? crmField(slug, constant.target) : null;
  const options = targets.map((name) => {
    const f = crmField(slug, name);
    return { value: name, text: `${f.label} (${name})`, label: f.label, detail: name };
  });
  const n = index + 1;
  const combo = combobox({
    id: stableId("const", path, constant.key),
    label: `Fixed value ${n}: CRM field`, options, value: constant.target, placeholder: "Choose a field",
    onChange: (value) => {
      constant.target = value;
      const f = crmField(slug, value);
      if (f && f.picklist && f.picklist.length && !f.picklist.some((p) => p.value === constant.value)) constant.value = f.picklist[0].value;
      if (f && f.type === "boolean" && typeof constant.value !== "boolean") constant.value = true;
      rerender(combo.input.id);
    },
  });
  const valueId = stableId("value", path, constant.key);
  let valueControl;
  const set = (v) => { constant.value = v; };
  if (field && field.picklist && field.picklist.length) {
    valueControl = h("select", { id: valueId, onchange: (e) => set(e.target.value) },
      field.picklist.map((p) => h("option", { value: p.value, text: p.label === p.value ? p.value : `${p.label} (${p.value})` })));
    valueControl.value = constant.value;
  } else if (field && field.type === "boolean") {
    valueControl = h("select", { id: valueId, onchange: (e) => set(e.target.value === "true") },
      h("option", { value: "true", text: "True" }), h("option", { value: "false", text: "False" }));
    valueControl.value = String(constant.value);
  } else {
    const type = !field ? "text" : field.type === "date" ? "date" : ["integer", "number"].includes(field.type) ? "number" : "text";
    valueControl = h("input", { id: valueId, type, value: constant.value ?? "",
      placeholder: field && field.type === "datetime" ? "2026-12-31T09:00:00Z" : "",
      oninput: (e) => {
        const raw = e.target.value;
        set(type === "number" && raw !== "" ? Number(raw) : raw);
      } });
  }
  const row = h("div", { class: "rule constant", "data-key": constant.key,
    "data-path": constant.target ? `${path}.fields.${constant.target}` : `${path}.constants.${n}` },
  combo,
  h("div", { class: "combo" }, h("label", { for: valueId, class: "label", text: `Fixed value ${n}: value` }), valueControl),
  h("button", { type: "button", class: "link-button", text: "Remove", "aria-label": `Remove fixed value ${n}${field ? ` (${field.label})` : ""}`,
    onclick: () => {
      event.constants.splice(index, 1);
      rerender(`add-${slug}-${path.split(".").pop()}`);
    } }));
  return row;
}

function renderRequired(slug, eventSlug, event, rerender) {
  const required = state.choices[slug].required_on_create;
  const covered = new Set([
    ...Object.values(event.payload).map((r) => r.target).filter(Boolean),
    ...event.constants.map((c) => c.target).filter(Boolean),
    ...Object.keys(event.extras),
  ]);
  const missing = required.filter((name) => !covered.has(name));
  const box = h("div", { class: `required ${missing.length ? "warn" : "ok"}`, role: "status" });
  if (!missing.length) {
    box.append(h("p", { text: "Every field your CRM requires on create is covered." }));
    return box;
  }
  box.append(h("p", { text: `Your CRM requires these fields on create; they are not covered yet: ${missing.map((n) => fieldText(slug, n)).join(", ")}.` }));
  box.append(h("div", { class: "quick" }, missing.map((name) => h("button", {
    type: "button", class: "secondary small", text: `Set a fixed ${crmField(slug, name)?.label || name}`,
    onclick: () => {
      const f = crmField(slug, name);
      const key = nextId("c");
      const value = f && f.picklist && f.picklist.length ? f.picklist[0].value : f && f.type === "boolean" ? true : "";
      event.constants.push({ key, target: name, value });
      rerender();
      const input = document.querySelector(`[data-key="${key}"] .combo:nth-of-type(2) input, [data-key="${key}"] .combo:nth-of-type(2) select`);
      input?.focus();
    },
  }))));
  return box;
}

// -- read rules ------------------------------------------------------------------------------------
function renderReads(slug) {
  const choices = state.choices[slug];
  const model = state.draft[slug];
  const path = `objects.${slug}.fields`;
  const box = h("div", { class: "reads", "data-path": path },
    h("h3", { text: `Data read back from ${choices.crm_object.label}` }),
    h("p", { class: "muted", text: "Choose the fields of your CRM that correspond to the fields given below." }));
  const rerender = (focusId) => { renderObject(slug); if (focusId && $(focusId)) $(focusId).focus(); };
  for (const field of choices.read) {
    const rule = model.reads[field.slug];
    const rowPath = `${path}.${field.slug}`;
    if (field.children) {
      box.append(renderObjectRead(slug, field, rule, rowPath, rerender));
      continue;
    }
    box.append(readRow(slug, field.label, field.kind, field.options, rule, rowPath, (next) => {
      model.reads[field.slug] = next;
    }, rerender));
  }
  return box;
}

function readRow(slug, label, kind, options, rule, rowPath, update, rerender) {
  const srcId = nextId("read");
  const isConstant = rule && "value" in rule;
  const value = rule === null || rule === undefined ? "" : isConstant ? "__constant__" : rule.from;
  const combo = combobox({
    id: stableId("read", rowPath),
    label: `CRM field for ${label}`, hideLabel: true, value, describe: srcId,
    options: [{ value: "", text: "Don't map any data", special: true },
      { value: "__constant__", text: "A fixed value…", special: true }].concat(
      options.map((o) => {
        const f = crmField(slug, o.name);
        return { value: o.name, text: `${f.label} (${o.name})`, label: f.label, detail: o.name, suggested: o.suggested };
      })),
    onChange: (v) => {
      update(v === "" ? null : v === "__constant__" ? { value: "" } : { from: v });
      rerender(combo.input.id);
    },
  });
  const row = h("div", { class: "rule", "data-path": rowPath },
    h("div", { class: "source", id: srcId }, h("span", { class: "source-label", text: label }), " ",
      h("span", { class: "kind", text: kind })),
    h("span", { class: "arrow", "aria-hidden": "true", text: "←" }), combo);
  if (isConstant) {
    const id = stableId("read-value", rowPath);
    row.append(h("div", { class: "combo" }, h("label", { for: id, class: "label", text: `Fixed value for ${label}` }),
      h("input", { id, type: "text", value: rule.value ?? "", oninput: (e) => update({ value: e.target.value }) })));
  }
  return row;
}

function renderObjectRead(slug, field, rule, rowPath, rerender) {
  const model = state.draft[slug];
  const children = rule && rule.fields ? { ...rule.fields } : {};
  const names = new Set([...field.children.map((c) => c.slug), ...Object.keys(children)]);
  const save = () => {
    model.reads[field.slug] = Object.keys(children).length ? { fields: { ...children } } : null;
  };
  const box = h("fieldset", { class: "object-field", "data-path": rowPath },
    h("legend", { text: `${field.label} (${field.kind})` }));
  for (const name of names) {
    const declared = field.children.find((c) => c.slug === name);
    const options = declared ? declared.options : field.additional_options || [];
    box.append(readRow(slug, declared ? declared.label : name, declared ? declared.kind : "string", options,
      name in children ? children[name] : null, `${rowPath}.fields.${name}`, (next) => {
        if (next === null && !declared) delete children[name];
        else children[name] = next;
        save();
      }, rerender));
  }
  if (!names.size) box.append(h("p", { class: "muted", text: "No data mapped." }));
  if (field.additional) {
    const id = stableId("child", rowPath);
    const input = h("input", { id, type: "text", placeholder: "e.g. stage", pattern: "[A-Za-z_][A-Za-z0-9_]*" });
    box.append(h("div", { class: "add-child" },
      h("label", { for: id, class: "label", text: `Add a field to ${field.label}` }), input,
      h("button", { type: "button", class: "secondary small", text: "Add field", onclick: () => {
        const name = input.value.trim();
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name) || name in children) { input.setAttribute("aria-invalid", "true"); input.focus(); return; }
        children[name] = null;
        save();
        rerender(id);
      } })));
  }
  return box;
}

// -- errors next to their rows ----------------------------------------------------------------------
function clearErrors() {
  document.querySelectorAll(".row-error").forEach((e) => e.remove());
  document.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  document.querySelectorAll(".invalid").forEach((e) => e.classList.remove("invalid"));
  $("summary").hidden = true;
}

function rowFor(path) {
  let parts = path.split(".");
  while (parts.length) {
    const found = document.querySelector(`[data-path="${CSS.escape(parts.join("."))}"]`);
    if (found) return found;
    parts = parts.slice(0, -1);
  }
  return null;
}

function showErrors(message, errors) {
  clearErrors();
  const items = [];
  for (const item of errors) {
    const row = rowFor(item.path);
    const id = nextId("err");
    const text = item.error;
    if (row) {
      row.classList.add("invalid");
      const p = h("p", { class: "error row-error", id, text });
      if (row.tagName === "FIELDSET") row.insertBefore(p, row.children[1] || null);
      else row.append(p);
      const control = row.querySelector("input, select");
      if (control && row.tagName !== "FIELDSET" && !row.classList.contains("rules")) {
        control.setAttribute("aria-invalid", "true");
        control.setAttribute("aria-describedby", `${control.getAttribute("aria-describedby") || ""} ${id}`.trim());
      }
    }
    items.push(h("li", {}, h("a", { href: `#${id}`, onclick: (e) => {
      e.preventDefault();
      const target = row && (row.querySelector("input, select, button") || row);
      if (target) { target.scrollIntoView({ block: "center" }); target.focus(); }
    } }, text), " ", h("code", { class: "path", text: item.path })));
  }
  const summary = $("summary");
  fill(summary, h("h2", { text: message }), h("ul", {}, items));
  summary.hidden = false;
  summary.focus();
}

// -- saving and closing ----------------------------------------------------------------------------
function localProblems() {
  const problems = [];
  for (const [slug, model] of Object.entries(state.draft)) {
    for (const [eventSlug, event] of Object.entries(model.events || {})) {
      if (!["create", "update"].includes(event.action)) continue;
      const seen = {};
      const path = `objects.${slug}.events.${eventSlug}.fields`;
      for (const [source, rule] of Object.entries(event.payload)) {
        if (!rule.target) continue;
        if (seen[rule.target]) problems.push({ path: `${path}.${rule.target}`, error: `${fieldText(slug, rule.target)} is filled twice (${seen[rule.target]} and ${source}): choose one` });
        seen[rule.target] = source;
      }
      event.constants.forEach((c, i) => {
        if (!c.target) problems.push({ path: `objects.${slug}.events.${eventSlug}.constants.${i + 1}`, error: "choose the CRM field this fixed value goes to, or remove it" });
        else if (seen[c.target]) problems.push({ path: `${path}.${c.target}`, error: `${fieldText(slug, c.target)} is filled twice: choose one` });
        else seen[c.target] = "a fixed value";
      });
    }
  }
  return problems;
}

async function save() {
  const button = $("save");
  const local = localProblems();
  if (local.length) {
    showErrors(`Please fix ${local.length} problem${local.length > 1 ? "s" : ""} before saving`, local);
    announce("Not saved.");
    return;
  }
  button.disabled = true;
  announce("Saving…");
  try {
    const saved = await api("PUT", "mapping", toMapping());
    clearErrors();
    state.summary.mapping_status = saved.mapping_status;
    Object.keys(state.summary.objects).forEach((slug) => {
      const pill = document.querySelector(`#object-${CSS.escape(slug)} .object-head .pill`);
      if (pill) pill.replaceWith(statusPill(slug));
    });
    announce("Saved. Your mapping is active.");
    tellHost({ type: "finished", connectionID: state.summary.connection_id });
  } catch (error) {
    announce("Not saved.");
    if (error.errors && error.errors.length) showErrors(`Not saved: ${error.message}`, error.errors);
    else showErrors(`Not saved: ${error.message}`, []);
  } finally {
    button.disabled = false;
  }
}

function close() {
  tellHost({ type: "close", reason: state.closeReason || undefined });
  if (!EMBEDDED) announce("You can close this window.");
}

function fatal(message) {
  state.closeReason = message;
  $("loading").hidden = true;
  const box = $("fatal");
  fill(box, h("p", { text: message }),
    EMBEDDED ? h("button", { type: "button", class: "secondary", text: "Close", onclick: close }) : null);
  box.hidden = false;
  (box.querySelector("button") || $("close")).focus();
}

// -- start -------------------------------------------------------------------------------------------
async function receiveDefinition() {
  if (!wantsDefinition || !EMBEDDED) return;
  const objects = await new Promise((resolve) => {
    const timer = setTimeout(() => resolve(null), 5000);
    window.addEventListener("message", function onMessage(event) {
      if (event.source !== window.parent || event.origin !== hostOrigin) return;
      const data = event.data;
      if (!data || data.source !== "crmlink-host" || data.type !== "definition") return;
      clearTimeout(timer);
      window.removeEventListener("message", onMessage);
      resolve(data.objects);
    });
    tellHost({ type: "ready" });
  });
  if (objects) await api("PUT", "definition", { objects });
}

async function loadCatalog() {
  try {
    state.catalog = await api("GET", "catalog");
  } catch (error) {
    state.catalog = null;
    $("objects").hidden = false;
    fill($("object-list"), h("p", { class: "notice bad", role: "alert", text: `Could not read your CRM's objects: ${error.message}` }));
    return;
  }
  await Promise.all(Object.keys(state.draft).map((slug) => loadChoices(slug, false)));
  renderObjects();
  $("actions").hidden = false;
}

async function start() {
  $("close").addEventListener("click", close);
  $("save").addEventListener("click", save);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.defaultPrevented) close();
  });
  if (!token) {
    fatal("This page needs a link token. Open it with crmlink.linkCRM(baseUrl, token).");
    return;
  }
  try {
    await receiveDefinition();
  } catch (error) {
    fatal(`The app's objects could not be applied: ${error.message}`);
    return;
  }
  try {
    state.summary = await api("GET", "connection");
  } catch (error) {
    fatal(error.status === 401
      ? `This link is no longer valid (${error.message}). Close it and try again.`
      : error.message);
    return;
  }
  if (expected && expected !== state.summary.connection_id) {
    fatal(`This link token is for connection "${state.summary.connection_id}", not "${expected}".`);
    return;
  }
  const saved = await api("GET", "mapping");
  for (const slug of Object.keys(state.summary.objects)) {
    state.draft[slug] = fromMapping(slug, saved.mapping && saved.mapping.objects[slug]);
  }
  $("loading").hidden = true;
  renderConnection();
  if (saved.dropped.length) {
    $("connection").after(h("p", { class: "notice", role: "status",
      text: `Some saved choices no longer apply to this app and were left out: ${saved.dropped.join(", ")}.` }));
  }
  if (state.summary.health.ok) await loadCatalog();
  else {
    $("objects").hidden = false;
    fill($("object-list"), h("p", { class: "muted", text: "Enter working CRM credentials above to map your data." }));
  }
  $("main").focus();
}

start();
