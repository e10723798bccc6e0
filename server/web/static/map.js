/* The managers' map: territories, customers, rep positions, a rep's route; customer cards;
 * drawing and editing territories; box/lasso select to reassign; assign by location;
 * balance territories (propose k compact territories of even workload, preview, apply).
 *
 * Test hooks: customer markers carry the class `fs-customer` (and `fs-overdue`), territory
 * polygons `fs-territory`, proposed territories (dashed preview) `fs-proposal`, route stops `fs-stop` (text: the stop number), rep positions
 * `fs-rep`; `window.fieldsyncMap` has the counts and a few helpers.
 *
 * map.html loads this file as the page's only module script; nothing imports it.
 */
import { start } from "./common.js";
import { api, errorText } from "./common/api.js";
import { config } from "./common/config.js";
import { el } from "./common/dom.js";
import { fmt } from "./common/format.js";
import { t } from "./common/i18n.js";
import { toast } from "./common/toast.js";

const STATUS_COLORS = {
  active: "#2a9d5c",
  prospect: "#2f6fdb",
  lead: "#8e5bd0",
  inactive: "#8a94a6",
};
const OVERDUE_RING = "#e02d3c";
const OPEN_ORDER_STATUSES = ["draft", "submitted"];
const DEMO_CENTER = [10.79, 106.7];
const PROPOSAL_COLORS = ["#e76f51", "#2a9d8f", "#7b61ff", "#f4a100", "#d62f7f", "#3a86ff", "#6a994e", "#9c6644"];

const state = {
  user: null,
  map: null,
  layers: {},
  territories: [], // GeoJSON features
  territoryLayers: new Map(), // id -> L.Polygon
  customers: [], // GeoJSON features (all, including those without geometry)
  customerMarkers: new Map(), // id -> L.CircleMarker
  users: new Map(), // id -> user (reps and managers visible)
  teams: [],
  selection: [], // customer ids
  tool: null, // "draw" | "edit" | "select"
  editing: null, // {id, layer, version, original}
  route: null, // {repId, date, stops}
  fitted: false,
};

const hooks = {
  ready: false,
  counts: { customers: 0, overdue: 0, needsLocation: 0, territories: 0, reps: 0, stops: 0 },
  selection: () => [...state.selection],
  customerIds: () => [...state.customerMarkers.keys()],
  openCustomer: (id) => openCustomer(id),
  reload: () => reloadAll(),
  get map() {
    return state.map;
  },
};
window.fieldsyncMap = hooks;

/* ---------- start ---------- */

start({
  roles: ["manager", "admin"],
  onReady: init,
  onLanguage: relabel,
});

async function init(user) {
  state.user = user;
  if (!state.map) createMap();
  wireControls();
  document.getElementById("fs-route-date").value = todayIso();
  await reloadAll();
  hooks.ready = true;
  document.body.dataset.ready = "true";
}

async function reloadAll() {
  setLoading(true);
  try {
    await Promise.all([loadUsersAndTeams(), loadTerritories()]);
    await Promise.all([loadCustomers(), loadRepPositions()]);
  } catch (error) {
    toast(errorText(error), "error");
  } finally {
    setLoading(false);
  }
}

function todayIso() {
  const now = new Date();
  const local = new Date(now.getTime() - now.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 10);
}

function setLoading(on) {
  document.getElementById("fs-loading").hidden = !on;
}

function createMap() {
  const map = L.map("fs-map", { zoomControl: true, preferCanvas: false, minZoom: 3 });
  map.setView(DEMO_CENTER, 13);
  if (config.tileUrl) {
    L.tileLayer(config.tileUrl, {
      attribution: config.tileAttribution || "",
      maxZoom: 19,
    }).addTo(map);
  } else {
    map.getContainer().classList.add("fs-map-plain");
    map.attributionControl.setPrefix(false);
  }
  L.control.scale({ imperial: false }).addTo(map);
  state.map = map;
  state.layers = {
    territories: L.featureGroup().addTo(map),
    customers: L.featureGroup().addTo(map),
    reps: L.featureGroup().addTo(map),
    route: L.featureGroup().addTo(map),
    selection: L.featureGroup().addTo(map),
    proposal: L.featureGroup().addTo(map),
  };
  // Geoman: no toolbar of its own; our buttons drive it.
  if (map.pm) {
    map.pm.setGlobalOptions({ snappable: false, allowSelfIntersection: false });
    map.on("pm:create", onShapeCreated);
    translateGeoman();
  }
}

let wired = false;
function wireControls() {
  if (wired) return;
  wired = true;
  document.querySelectorAll("[data-layer]").forEach((box) => {
    box.addEventListener("change", () => {
      const layer = state.layers[box.dataset.layer];
      if (box.checked) layer.addTo(state.map);
      else layer.remove();
      if (box.dataset.layer === "territories" && box.checked) layer.bringToBack();
    });
  });
  for (const id of ["fs-filter-territory", "fs-filter-rep", "fs-filter-status", "fs-filter-overdue"]) {
    document.getElementById(id).addEventListener("change", () => loadCustomers());
  }
  document.getElementById("fs-route-show").addEventListener("click", showRoute);
  document.getElementById("fs-route-clear").addEventListener("click", clearRoute);
  document.getElementById("fs-panel-close").addEventListener("click", closePanel);
  document.getElementById("fs-tool-draw").addEventListener("click", startDraw);
  document.getElementById("fs-tool-edit").addEventListener("click", startEdit);
  document.getElementById("fs-tool-box").addEventListener("click", () => startSelect("Rectangle"));
  document.getElementById("fs-tool-lasso").addEventListener("click", () => startSelect("Polygon"));
  document.getElementById("fs-tool-assign").addEventListener("click", assignByLocation);
  document.getElementById("fs-tool-balance").addEventListener("click", balanceTerritories);
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") cancelTool();
  });
}

/* ---------- data ---------- */

async function loadUsersAndTeams() {
  const [users, teams] = await Promise.all([
    api.listAll("/api/v1/users", { sort: "name" }),
    api.listAll("/api/v1/teams", { sort: "name" }),
  ]);
  state.users = new Map(users.map((u) => [u.id, u]));
  state.teams = teams;
  const reps = users.filter((u) => u.role === "rep" && !u.deleted_at);
  fillSelect(document.getElementById("fs-filter-rep"), reps, (u) => u.name, "filters.all");
  fillSelect(document.getElementById("fs-route-rep"), reps, (u) => u.name, "route.choose_rep");
}

function fillSelect(select, items, label, emptyKey) {
  const current = select.value;
  select.replaceChildren(
    el("option", { value: "", "data-i18n": emptyKey, text: t(emptyKey) }),
    ...items.map((item) => el("option", { value: item.id, text: label(item) }))
  );
  if ([...select.options].some((o) => o.value === current)) select.value = current;
}

function repNames(ids) {
  return (ids || []).map((id) => (state.users.get(id) || {}).name || "?").join(", ");
}

async function loadTerritories() {
  const body = await api.get("/api/v1/geo/territories");
  state.territories = body.features;
  const group = state.layers.territories;
  group.clearLayers();
  state.territoryLayers.clear();
  for (const feature of body.features) {
    if (!feature.geometry) continue;
    const color = feature.properties.color || "#5b6b82";
    const layer = L.geoJSON(feature, {
      style: {
        color,
        weight: 2,
        opacity: 0.9,
        fillColor: color,
        fillOpacity: 0.12,
        className: "fs-territory",
      },
    }).getLayers()[0];
    layer.feature = feature;
    layer.bindTooltip(() => territoryTooltip(feature), { sticky: true, direction: "top" });
    layer.on("add", () => {
      const path = layer.getElement();
      if (path) path.dataset.territoryId = feature.id;
    });
    group.addLayer(layer);
    state.territoryLayers.set(feature.id, layer);
  }
  group.bringToBack();
  hooks.counts.territories = state.territoryLayers.size;
  fillSelect(
    document.getElementById("fs-filter-territory"),
    body.features.map((f) => ({ id: f.id, name: f.properties.name })),
    (x) => x.name,
    "filters.all"
  );
  if (!state.fitted && group.getLayers().length) {
    state.map.fitBounds(group.getBounds(), { padding: [20, 20] });
    state.fitted = true;
  }
}

function territoryTooltip(feature) {
  const p = feature.properties;
  return el(
    "div",
    { class: "fs-tip", dir: "auto" },
    el("strong", { text: p.name }),
    el("div", { text: `${t("territory.reps")}: ${repNames(p.rep_ids) || "—"}` }),
    el("div", { text: t("territory.customers", { count: p.customers }) })
  );
}

function customerFilter() {
  return {
    territory_id: document.getElementById("fs-filter-territory").value,
    rep_id: document.getElementById("fs-filter-rep").value,
    status: document.getElementById("fs-filter-status").value,
    overdue: document.getElementById("fs-filter-overdue").value,
  };
}

async function loadCustomers() {
  let body;
  try {
    body = await api.get("/api/v1/geo/customers", customerFilter());
  } catch (error) {
    toast(errorText(error), "error");
    return;
  }
  state.customers = body.features;
  const group = state.layers.customers;
  group.clearLayers();
  state.customerMarkers.clear();
  let overdue = 0;
  let needsLocation = 0;
  for (const feature of body.features) {
    const p = feature.properties;
    if (!feature.geometry) {
      needsLocation += 1;
      continue;
    }
    const [lon, lat] = feature.geometry.coordinates;
    const classes = ["fs-customer", `fs-status-${p.status}`];
    if (p.overdue) {
      classes.push("fs-overdue");
      overdue += 1;
    }
    const marker = L.circleMarker([lat, lon], {
      radius: p.overdue ? 6 : 5,
      color: p.overdue ? OVERDUE_RING : "#ffffff",
      weight: p.overdue ? 2.5 : 1,
      opacity: 1,
      fillColor: STATUS_COLORS[p.status] || "#555",
      fillOpacity: 0.9,
      className: classes.join(" "),
    });
    marker.feature = feature;
    marker.bindTooltip(() => el("span", { dir: "auto", text: p.name }), { direction: "top" });
    marker.on("add", () => {
      const path = marker.getElement();
      if (path) path.dataset.customerId = feature.id;
    });
    marker.on("click", () => {
      if (!state.tool) openCustomer(feature.id);
    });
    group.addLayer(marker);
    state.customerMarkers.set(feature.id, marker);
  }
  Object.assign(hooks.counts, {
    customers: state.customerMarkers.size,
    overdue,
    needsLocation,
  });
  document.getElementById("fs-count-customers").textContent = fmt.integer(state.customerMarkers.size);
  document.getElementById("fs-count-overdue").textContent = fmt.integer(overdue);
  document.getElementById("fs-count-needs-location").textContent = fmt.integer(needsLocation);
  markSelection();
}

async function loadRepPositions() {
  const body = await api.get("/api/v1/geo/reps");
  const group = state.layers.reps;
  group.clearLayers();
  for (const feature of body.features) {
    if (!feature.geometry) continue;
    const [lon, lat] = feature.geometry.coordinates;
    const name = feature.properties.name || "";
    const initials = name
      .split(/\s+/)
      .filter(Boolean)
      .slice(-2)
      .map((w) => w[0])
      .join("")
      .toUpperCase();
    const marker = L.marker([lat, lon], {
      icon: L.divIcon({
        className: "fs-rep",
        html: `<span>${escapeHtml(initials)}</span>`,
        iconSize: [30, 30],
        iconAnchor: [15, 15],
      }),
      zIndexOffset: 1000,
      keyboard: false,
    });
    marker.bindTooltip(() =>
      el(
        "div",
        { class: "fs-tip", dir: "auto" },
        el("strong", { text: name }),
        el("div", { text: t("rep.last_check_in", { when: fmt.dateTime(feature.properties.at) }) })
      )
    );
    group.addLayer(marker);
  }
  hooks.counts.reps = group.getLayers().length;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/* ---------- route of a day ---------- */

async function showRoute() {
  const repId = document.getElementById("fs-route-rep").value;
  const date = document.getElementById("fs-route-date").value;
  const summary = document.getElementById("fs-route-summary");
  if (!repId || !date) {
    summary.replaceChildren(el("p", { class: "fs-error", text: t("route.need_rep_date") }));
    return;
  }
  clearRoute();
  let body;
  try {
    body = await api.get("/api/v1/geo/route", { rep_id: repId, date });
  } catch (error) {
    if (error.status === 404) {
      summary.replaceChildren(el("p", { class: "fs-muted", text: t("route.none") }));
      suggestPlanDates(repId, summary);
    } else {
      summary.replaceChildren(el("p", { class: "fs-error", text: errorText(error) }));
    }
    return;
  }
  const group = state.layers.route;
  const line = body.features.find((f) => f.properties.kind === "route");
  const stops = body.features.filter((f) => f.properties.kind === "stop");
  if (line && line.geometry) {
    L.geoJSON(line, {
      style: { color: "#1d3557", weight: 4, opacity: 0.85, className: "fs-route-line" },
      interactive: false,
    }).addTo(group);
  }
  for (const stop of stops) {
    if (!stop.geometry) continue;
    const [lon, lat] = stop.geometry.coordinates;
    const p = stop.properties;
    const marker = L.marker([lat, lon], {
      icon: L.divIcon({
        className: "fs-stop" + (p.completed ? " fs-stop-done" : ""),
        html: `<span data-number="${p.number}">${p.number}</span>`,
        iconSize: [24, 24],
        iconAnchor: [12, 12],
      }),
      zIndexOffset: 500,
      keyboard: false,
    });
    marker.bindTooltip(() =>
      el(
        "div",
        { class: "fs-tip", dir: "auto" },
        el("strong", { text: `${fmt.integer(p.number)}. ${p.name}` }),
        el("div", { text: t("route.arrival", { time: fmt.time(p.arrival_at) }) })
      )
    );
    marker.on("click", () => openCustomer(p.customer_id));
    group.addLayer(marker);
  }
  if (!document.querySelector('[data-layer="route"]').checked) {
    document.querySelector('[data-layer="route"]').checked = true;
    group.addTo(state.map);
  }
  const props = line ? line.properties : {};
  state.route = { repId, date, stops: stops.length, props };
  hooks.counts.stops = stops.length;
  renderRouteSummary();
  if (group.getLayers().length) state.map.fitBounds(group.getBounds(), { padding: [40, 40] });
}

function renderRouteSummary() {
  const summary = document.getElementById("fs-route-summary");
  if (!state.route) return;
  const { stops, props, repId } = state.route;
  summary.replaceChildren(
    el("div", { class: "fs-route-rep", text: (state.users.get(repId) || {}).name || "" }),
    el("div", { "data-testid": "route-stops", text: t("route.stops", { count: stops }) }),
    props.total_distance_m !== undefined
      ? el("div", {
          text: t("route.distance", {
            km: fmt.number((props.total_distance_m || 0) / 1000, { maximumFractionDigits: 1 }),
            minutes: Math.round((props.total_travel_s || 0) / 60),
          }),
        })
      : null
  );
}

async function suggestPlanDates(repId, summary) {
  try {
    const body = await api.get("/api/v1/route-plans", { rep_id: repId, limit: 50 });
    const dates = [...new Set(body.items.map((p) => p.plan_date))].sort().reverse().slice(0, 5);
    if (!dates.length) return;
    summary.append(
      el(
        "div",
        { class: "fs-chips" },
        el("span", { class: "fs-muted", text: t("route.plans_on") }),
        ...dates.map((day) =>
          el("button", {
            type: "button",
            class: "fs-chip",
            text: fmt.date(day + "T12:00:00"),
            onclick: () => {
              document.getElementById("fs-route-date").value = day;
              showRoute();
            },
          })
        )
      )
    );
  } catch (error) {
    /* suggestions are optional */
  }
}

function clearRoute() {
  state.layers.route.clearLayers();
  state.route = null;
  hooks.counts.stops = 0;
  document.getElementById("fs-route-summary").replaceChildren();
}

/* ---------- side panel and customer card ---------- */

function openPanel(...children) {
  const panel = document.getElementById("fs-panel");
  document.getElementById("fs-panel-body").replaceChildren(...children);
  panel.hidden = false;
  state.map.invalidateSize();
}

function closePanel() {
  document.getElementById("fs-panel").hidden = true;
  document.getElementById("fs-panel-body").replaceChildren();
  state.panelRender = null;
  state.layers.proposal.clearLayers();
  state.map.invalidateSize();
}

async function openCustomer(id) {
  state.panelRender = () => openCustomer(id);
  openPanel(el("div", { class: "fs-card", "data-testid": "customer-card" }, el("p", { class: "fs-muted", text: t("common.loading") })));
  let customer, contacts, visits, orders;
  try {
    [customer, contacts, visits, orders] = await Promise.all([
      api.get(`/api/v1/customers/${id}`),
      api.listAll("/api/v1/contacts", { customer_id: id, sort: "name" }, 2),
      api.listAll("/api/v1/visits", { customer_id: id }, 4),
      api.listAll("/api/v1/orders", { customer_id: id }, 4),
    ]);
  } catch (error) {
    openPanel(el("div", { class: "fs-card", "data-testid": "customer-card" }, el("p", { class: "fs-error", text: errorText(error) })));
    return;
  }
  const feature = state.customers.find((f) => f.id === id);
  const overdue = feature ? feature.properties.overdue : false;
  const when = (v) => v.check_in_at || v.planned_at || v.created_at;
  const lastVisits = visits
    .filter((v) => v.status !== "planned")
    .sort((a, b) => String(when(b)).localeCompare(String(when(a))))
    .slice(0, 5);
  const openOrders = orders
    .filter((o) => OPEN_ORDER_STATUSES.includes(o.status))
    .sort((a, b) => String(b.submitted_at || b.created_at).localeCompare(String(a.submitted_at || a.created_at)))
    .slice(0, 5);
  const territory = state.territories.find((f) => f.id === customer.territory_id);
  const owner = state.users.get(customer.owner_id);
  const address = [customer.address, customer.city, customer.postal_code].filter(Boolean).join(", ");

  const card = el(
    "div",
    { class: "fs-card", "data-testid": "customer-card", dataset: { customerId: id } },
    el("h2", { class: "fs-card-title", dir: "auto", "data-testid": "card-name", text: customer.name }),
    el(
      "div",
      { class: "fs-badges" },
      el("span", { class: `fs-badge fs-badge-${customer.status}`, "data-testid": "card-status", text: t(`status.${customer.status}`) }),
      el("span", { class: "fs-badge fs-badge-tier", text: t("card.tier", { tier: customer.tier }) }),
      overdue ? el("span", { class: "fs-badge fs-badge-overdue", text: t("card.overdue") }) : null,
      customer.lat === null ? el("span", { class: "fs-badge", text: t("card.needs_location") }) : null
    ),
    el(
      "dl",
      { class: "fs-dl" },
      el("dt", { text: t("card.address") }), el("dd", { dir: "auto", text: address || "—" }),
      el("dt", { text: t("card.phone") }), el("dd", { dir: "ltr", text: customer.phone || "—" }),
      el("dt", { text: t("card.territory") }), el("dd", { dir: "auto", text: territory ? territory.properties.name : "—" }),
      el("dt", { text: t("card.owner") }), el("dd", { dir: "auto", text: owner ? owner.name : "—" }),
      el("dt", { text: t("card.visit_every") }), el("dd", { text: t("card.days", { count: customer.visit_every_days }) }),
      el("dt", { text: t("card.last_visit") }), el("dd", { text: fmt.date(customer.last_visit_at) })
    ),
    el("h3", { text: t("card.contacts") }),
    contacts.length
      ? el(
          "ul",
          { class: "fs-list", "data-testid": "card-contacts" },
          contacts.map((c) =>
            el(
              "li",
              {},
              el("strong", { dir: "auto", text: c.name }),
              c.role ? el("span", { class: "fs-muted", dir: "auto", text: ` · ${c.role}` }) : null,
              c.phone ? el("div", { dir: "ltr", class: "fs-phone", text: c.phone }) : null,
              c.email ? el("div", { dir: "ltr", text: c.email }) : null
            )
          )
        )
      : el("p", { class: "fs-muted", text: t("card.no_contacts") }),
    el("h3", { text: t("card.last_visits") }),
    lastVisits.length
      ? el(
          "ul",
          { class: "fs-list", "data-testid": "card-visits" },
          lastVisits.map((v) =>
            el(
              "li",
              {},
              el("span", { text: fmt.date(when(v)) }),
              " · ",
              el("span", { class: `fs-visit-${v.status}`, text: t(`visit.${v.status}`) }),
              v.outcome ? el("span", { class: "fs-muted", text: ` · ${t(`outcome.${v.outcome}`)}` }) : null,
              v.rep_id && state.users.get(v.rep_id)
                ? el("div", { class: "fs-muted", dir: "auto", text: state.users.get(v.rep_id).name })
                : null
            )
          )
        )
      : el("p", { class: "fs-muted", text: t("card.no_visits") }),
    el("h3", { text: t("card.open_orders") }),
    openOrders.length
      ? el(
          "ul",
          { class: "fs-list", "data-testid": "card-orders" },
          openOrders.map((o) =>
            el(
              "li",
              {},
              el("span", { text: fmt.date(o.submitted_at || o.created_at) }),
              " · ",
              el("span", { text: t(`order.${o.status}`) }),
              el("strong", { class: "fs-amount", text: fmt.money(o.total, o.currency) })
            )
          )
        )
      : el("p", { class: "fs-muted", text: t("card.no_orders") })
  );
  openPanel(card);
  const marker = state.customerMarkers.get(id);
  if (marker) {
    marker.bringToFront();
  }
}

/* ---------- tools: draw / edit territories, select and reassign ---------- */

function setHint(key, vars) {
  state.hint = key ? { key, vars } : null;
  const hint = document.getElementById("fs-tool-hint");
  hint.hidden = !key;
  hint.textContent = key ? t(key, vars) : "";
}

function cancelTool() {
  if (!state.map || !state.map.pm) return;
  state.map.pm.disableDraw();
  if (state.editing) {
    state.editing.layer.pm.disable();
    state.editing.layer.setLatLngs(state.editing.original);
    state.editing = null;
  }
  state.tool = null;
  setHint(null);
  document.querySelectorAll(".fs-tool-grid .fs-button").forEach((b) => b.classList.remove("fs-active"));
}

function activate(buttonId, tool) {
  cancelTool();
  state.tool = tool;
  document.getElementById(buttonId).classList.add("fs-active");
}

function startDraw() {
  activate("fs-tool-draw", "draw");
  setHint("tools.draw_hint");
  state.map.pm.enableDraw("Polygon", { pathOptions: { color: "#1d3557", fillOpacity: 0.15 } });
}

function startSelect(shape) {
  activate(shape === "Rectangle" ? "fs-tool-box" : "fs-tool-lasso", "select");
  setHint(shape === "Rectangle" ? "tools.box_hint" : "tools.lasso_hint");
  state.map.pm.enableDraw(shape, { pathOptions: { color: "#f4a100", dashArray: "6 4", fillOpacity: 0.08 } });
}

function onShapeCreated(event) {
  const layer = event.layer;
  const tool = state.tool;
  state.map.pm.disableDraw();
  if (tool === "select") {
    const ring = layer.getLatLngs()[0].map((p) => [p.lng, p.lat]);
    layer.remove();
    selectInside(ring);
  } else if (tool === "draw") {
    layer.remove();
    newTerritoryForm(layer.toGeoJSON().geometry);
  } else {
    layer.remove();
  }
  state.tool = null;
  setHint(null);
  document.querySelectorAll(".fs-tool-grid .fs-button").forEach((b) => b.classList.remove("fs-active"));
}

/** Ray casting over [lon, lat] pairs. */
function pointInRing(point, ring) {
  const [x, y] = point;
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

function selectInside(ring) {
  state.selection = state.customers
    .filter((f) => f.geometry && pointInRing(f.geometry.coordinates, ring))
    .map((f) => f.id);
  markSelection();
  reassignForm();
}

function markSelection() {
  const chosen = new Set(state.selection);
  for (const [id, marker] of state.customerMarkers) {
    const path = marker.getElement();
    if (path) path.classList.toggle("fs-selected", chosen.has(id));
  }
}

function clearSelection() {
  state.selection = [];
  markSelection();
}

function territoryOptions(select, emptyKey) {
  fillSelect(
    select,
    state.territories.map((f) => ({ id: f.id, name: f.properties.name })),
    (x) => x.name,
    emptyKey
  );
}

function reassignForm() {
  state.panelRender = reassignForm;
  const count = state.selection.length;
  const territory = el("select", { "data-testid": "reassign-territory" });
  territoryOptions(territory, "reassign.keep");
  const owner = el("select", { "data-testid": "reassign-owner" });
  fillSelect(owner, [...state.users.values()].filter((u) => u.role === "rep"), (u) => u.name, "reassign.keep");
  const message = el("p", { class: "fs-error", role: "alert", hidden: true });
  const confirmBox = el("div", { class: "fs-confirm", hidden: true });
  const form = el(
    "form",
    { class: "fs-card fs-form", "data-testid": "reassign-form" },
    el("h2", { text: t("reassign.title") }),
    el("p", { "data-testid": "selection-count", text: t("reassign.selected", { count }) }),
    el("label", { class: "fs-field" }, el("span", { text: t("reassign.to_territory") }), territory),
    el("label", { class: "fs-field" }, el("span", { text: t("reassign.to_owner") }), owner),
    message,
    el(
      "div",
      { class: "fs-row" },
      el("button", { type: "submit", class: "fs-button fs-button-primary", "data-testid": "reassign-submit", disabled: count === 0, text: t("reassign.submit") }),
      el("button", { type: "button", class: "fs-button fs-button-ghost", text: t("common.cancel"), onclick: () => { clearSelection(); closePanel(); } })
    ),
    confirmBox
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    message.hidden = true;
    if (!territory.value && !owner.value) {
      message.textContent = t("reassign.need_target");
      message.hidden = false;
      return;
    }
    const target = [
      territory.value ? territory.selectedOptions[0].textContent : null,
      owner.value ? owner.selectedOptions[0].textContent : null,
    ].filter(Boolean).join(" · ");
    confirmBox.replaceChildren(
      el("p", { text: t("reassign.confirm", { count, target }) }),
      el(
        "div",
        { class: "fs-row" },
        el("button", {
          type: "button",
          class: "fs-button fs-button-primary",
          "data-testid": "reassign-confirm",
          text: t("common.confirm"),
          onclick: async (e) => {
            e.target.disabled = true;
            const body = { customer_ids: state.selection };
            if (territory.value) body.territory_id = territory.value;
            if (owner.value) body.owner_id = owner.value;
            try {
              const result = await api.post("/api/v1/customers/reassign", body);
              toast(t("reassign.done", { count: result.updated ?? count }), "ok");
              clearSelection();
              closePanel();
              await Promise.all([loadTerritories(), loadCustomers()]);
            } catch (error) {
              message.textContent = errorText(error);
              message.hidden = false;
              e.target.disabled = false;
            }
          },
        }),
        el("button", { type: "button", class: "fs-button fs-button-ghost", text: t("common.cancel"), onclick: () => { confirmBox.hidden = true; } })
      )
    );
    confirmBox.hidden = false;
  });
  openPanel(form);
}

function teamsForForm() {
  const teams = state.teams.filter((team) => !team.deleted_at);
  return teams.length ? teams : [];
}

function newTerritoryForm(geometry) {
  state.panelRender = null;
  const preview = L.geoJSON(geometry, { style: { color: "#1d3557", dashArray: "4 4", fillOpacity: 0.1 } }).addTo(state.layers.selection);
  const name = el("input", { type: "text", required: true, maxlength: 200, "data-testid": "territory-name" });
  const team = el("select", { "data-testid": "territory-team" });
  fillSelect(team, teamsForForm(), (x) => x.name, "territory.choose_team");
  if (teamsForForm().length === 1) team.value = teamsForForm()[0].id;
  const color = el("input", { type: "color", value: "#7b61ff", "data-testid": "territory-color" });
  const message = el("p", { class: "fs-error", role: "alert", hidden: true, "data-testid": "territory-error" });
  const done = () => {
    preview.remove();
    closePanel();
  };
  const form = el(
    "form",
    { class: "fs-card fs-form", "data-testid": "territory-form" },
    el("h2", { text: t("territory.new_title") }),
    el("label", { class: "fs-field" }, el("span", { text: t("territory.name") }), name),
    el("label", { class: "fs-field" }, el("span", { text: t("territory.team") }), team),
    el("label", { class: "fs-field" }, el("span", { text: t("territory.color") }), color),
    message,
    el(
      "div",
      { class: "fs-row" },
      el("button", { type: "submit", class: "fs-button fs-button-primary", "data-testid": "territory-save", text: t("common.save") }),
      el("button", { type: "button", class: "fs-button fs-button-ghost", text: t("common.cancel"), onclick: done })
    )
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.hidden = true;
    try {
      await api.post("/api/v1/territories", {
        name: name.value.trim(),
        team_id: team.value || null,
        color: color.value,
        geometry,
      });
      toast(t("territory.saved"), "ok");
      done();
      await Promise.all([loadTerritories(), loadCustomers()]);
    } catch (error) {
      message.textContent = errorText(error);
      message.hidden = false;
    }
  });
  openPanel(form);
  name.focus();
}

function startEdit() {
  activate("fs-tool-edit", "edit");
  setHint("tools.edit_hint");
  const select = el("select", { "data-testid": "edit-territory" });
  territoryOptions(select, "territory.choose");
  const message = el("p", { class: "fs-error", role: "alert", hidden: true, "data-testid": "edit-error" });
  const save = el("button", { type: "submit", class: "fs-button fs-button-primary", disabled: true, "data-testid": "edit-save", text: t("common.save") });
  const form = el(
    "form",
    { class: "fs-card fs-form", "data-testid": "edit-form" },
    el("h2", { text: t("territory.edit_title") }),
    el("label", { class: "fs-field" }, el("span", { text: t("territory.territory") }), select),
    el("p", { class: "fs-muted", text: t("tools.edit_hint") }),
    message,
    el(
      "div",
      { class: "fs-row" },
      save,
      el("button", { type: "button", class: "fs-button fs-button-ghost", text: t("common.cancel"), onclick: () => { cancelTool(); closePanel(); } })
    )
  );
  select.addEventListener("change", async () => {
    if (state.editing) {
      state.editing.layer.pm.disable();
      state.editing.layer.setLatLngs(state.editing.original);
      state.editing = null;
    }
    save.disabled = true;
    const layer = state.territoryLayers.get(select.value);
    if (!layer) return;
    try {
      const record = await api.get(`/api/v1/territories/${select.value}`);
      state.editing = {
        id: select.value,
        layer,
        version: record.version,
        original: cloneLatLngs(layer.getLatLngs()),
      };
      state.map.fitBounds(layer.getBounds(), { padding: [40, 40], animate: false });
      layer.pm.enable({ allowSelfIntersection: false });
      save.disabled = false;
    } catch (error) {
      message.textContent = errorText(error);
      message.hidden = false;
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!state.editing) return;
    message.hidden = true;
    const { id, layer, version } = state.editing;
    const geometry = layer.toGeoJSON().geometry;
    try {
      await api.patch(`/api/v1/territories/${id}`, { geometry }, { "If-Match": `"${version}"` });
      layer.pm.disable();
      state.editing = null;
      cancelTool();
      closePanel();
      toast(t("territory.saved"), "ok");
      await Promise.all([loadTerritories(), loadCustomers()]);
    } catch (error) {
      message.textContent =
        error.status === 409 && error.code === "version_conflict" ? t("territory.conflict") : errorText(error);
      message.hidden = false;
    }
  });
  openPanel(form);
}

function cloneLatLngs(value) {
  return Array.isArray(value) ? value.map(cloneLatLngs) : L.latLng(value.lat, value.lng);
}

async function assignByLocation() {
  cancelTool();
  state.panelRender = null;
  const team = el("select", { "data-testid": "assign-team" });
  fillSelect(team, teamsForForm(), (x) => x.name, "territory.choose_team");
  if (teamsForForm().length === 1) team.value = teamsForForm()[0].id;
  const result = el("div", { "data-testid": "assign-preview" });
  const message = el("p", { class: "fs-error", role: "alert", hidden: true, "data-testid": "assign-error" });
  const form = el(
    "form",
    { class: "fs-card fs-form", "data-testid": "assign-form" },
    el("h2", { text: t("assign.title") }),
    el("p", { class: "fs-muted", text: t("assign.intro") }),
    el("label", { class: "fs-field" }, el("span", { text: t("territory.team") }), team),
    el("div", { class: "fs-row" }, el("button", { type: "submit", class: "fs-button fs-button-primary", "data-testid": "assign-preview-button", text: t("assign.preview") })),
    message,
    result
  );
  const territoryName = (id) => {
    const found = state.territories.find((f) => f.id === id);
    return found ? found.properties.name : "—";
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.hidden = true;
    result.replaceChildren();
    if (!team.value) return;
    let preview;
    try {
      preview = await api.post("/api/v1/territory-assignments/preview", { team_id: team.value });
    } catch (error) {
      message.textContent = errorText(error);
      message.hidden = false;
      return;
    }
    const moves = preview.moves || [];
    const count = (value) => (Array.isArray(value) ? value.length : value || 0);
    result.replaceChildren(
      el("p", { "data-testid": "assign-summary", text: t("assign.summary", { moves: moves.length, unchanged: count(preview.unchanged), outside: count(preview.outside) }) }),
      moves.length
        ? el(
            "ul",
            { class: "fs-list fs-moves" },
            moves.slice(0, 200).map((m) =>
              el("li", {}, el("strong", { dir: "auto", text: m.name }), el("div", { class: "fs-muted", dir: "auto", text: `${territoryName(m.from_territory_id)} → ${territoryName(m.to_territory_id)}` }))
            )
          )
        : null,
      moves.length
        ? el("button", {
            type: "button",
            class: "fs-button fs-button-primary",
            "data-testid": "assign-apply",
            text: t("assign.apply", { count: moves.length }),
            onclick: async (e) => {
              e.target.disabled = true;
              try {
                await api.post("/api/v1/territory-assignments", { team_id: team.value, digest: preview.digest });
                toast(t("assign.done", { count: moves.length }), "ok");
                closePanel();
                await Promise.all([loadTerritories(), loadCustomers()]);
              } catch (error) {
                message.textContent = error.status === 409 ? t("assign.stale") : errorText(error);
                message.hidden = false;
                e.target.disabled = false;
              }
            },
          })
        : null
    );
  });
  openPanel(form);
}

/** Propose k compact territories of even workload for a team, preview them, apply. */
function balanceTerritories() {
  cancelTool();
  state.panelRender = null;
  state.layers.proposal.clearLayers();
  const teams = teamsForForm();
  const team = el("select", { "data-testid": "balance-team" });
  fillSelect(team, teams, (x) => x.name, "territory.choose_team");
  if (teams.length === 1) team.value = teams[0].id;
  const repsOf = (teamId) =>
    [...state.users.values()].filter((u) => u.role === "rep" && !u.deleted_at && u.team_id === teamId).length;
  const defaultK = () => Math.min(50, Math.max(2, repsOf(team.value) || 2));
  const k = el("input", { type: "number", min: 2, max: 50, step: 1, required: true, value: defaultK(), "data-testid": "balance-k" });
  team.addEventListener("change", () => {
    k.value = defaultK();
    result.replaceChildren();
    state.layers.proposal.clearLayers();
  });
  const result = el("div", { "data-testid": "balance-result" });
  const message = el("p", { class: "fs-error", role: "alert", hidden: true, "data-testid": "balance-error" });
  const propose = el("button", { type: "submit", class: "fs-button fs-button-primary", "data-testid": "balance-propose", text: t("balance.propose") });
  const form = el(
    "form",
    { class: "fs-card fs-form", "data-testid": "balance-form" },
    el("h2", { text: t("balance.title") }),
    el("p", { class: "fs-muted", text: t("balance.intro") }),
    teams.length === 1
      ? el("p", {}, el("span", { class: "fs-muted", text: `${t("territory.team")}: ` }), el("strong", { dir: "auto", text: teams[0].name }))
      : el("label", { class: "fs-field" }, el("span", { text: t("territory.team") }), team),
    el("label", { class: "fs-field" }, el("span", { text: t("balance.k") }), k),
    el("div", { class: "fs-row" }, propose),
    message,
    result
  );
  const showError = (error) => {
    message.textContent = errorText(error);
    message.hidden = false;
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.hidden = true;
    result.replaceChildren();
    state.layers.proposal.clearLayers();
    if (!team.value) return;
    const teamId = team.value;
    propose.disabled = true;
    let body;
    try {
      body = await api.post("/api/v1/territory-balancer/proposals", { team_id: teamId, k: Number(k.value) });
    } catch (error) {
      showError(error);
      return;
    } finally {
      propose.disabled = false;
    }
    showProposal(body, teamId);
  });

  function showProposal(body, teamId) {
    const { current, proposal } = body;
    const two = (value) => fmt.number(value, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    const hours = (minutes) => fmt.number(minutes / 60, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    const num = (text, testid) => el("td", { class: "fs-num", "data-testid": testid, text });
    const summary = el(
      "table",
      { class: "fs-table fs-balance-table", "data-testid": "balance-table" },
      el("thead", {}, el("tr", {}, el("th", {}), el("th", { class: "fs-num", text: t("balance.today") }), el("th", { class: "fs-num", text: t("balance.proposal") }))),
      el(
        "tbody",
        {},
        el("tr", {}, el("th", { text: t("balance.territories") }), num(fmt.integer(current.territories.length), "balance-today-count"), num(fmt.integer(proposal.territories.length), "balance-proposal-count")),
        el("tr", {}, el("th", { text: t("balance.imbalance") }), num(two(current.imbalance), "balance-today-imbalance"), num(two(proposal.imbalance), "balance-proposal-imbalance")),
        el("tr", {}, el("th", { text: t("balance.compactness") }), num(two(current.compactness), "balance-today-compactness"), num(two(proposal.compactness), "balance-proposal-compactness"))
      )
    );
    const color = (i) => PROPOSAL_COLORS[i % PROPOSAL_COLORS.length];
    const parts = el(
      "table",
      { class: "fs-table fs-balance-table", "data-testid": "balance-parts" },
      el("thead", {}, el("tr", {}, el("th", { text: t("balance.part") }), el("th", { class: "fs-num", text: t("balance.customers") }), el("th", { class: "fs-num", text: t("balance.hours") }))),
      el(
        "tbody",
        {},
        proposal.territories.map((part, i) =>
          el(
            "tr",
            {},
            el("th", {}, el("span", { class: "fs-swatch", style: `background:${color(i)}` }), t("balance.part_name", { number: i + 1 })),
            num(fmt.integer(part.customers)),
            num(hours(part.workload_minutes))
          )
        )
      )
    );
    proposal.territories.forEach((part, i) => {
      if (!part.geometry) return;
      L.geoJSON(part.geometry, {
        interactive: false,
        style: { className: "fs-proposal", color: color(i), weight: 3, dashArray: "8 6", fillColor: color(i), fillOpacity: 0.12 },
      }).addTo(state.layers.proposal);
    });
    if (state.layers.proposal.getLayers().length) {
      state.map.fitBounds(state.layers.proposal.getBounds(), { padding: [30, 30], animate: false });
    }
    const reused = current.territories.slice(0, proposal.territories.length);
    const created = proposal.territories.length - reused.length;
    const confirmBox = el("div", { class: "fs-confirm", hidden: true });
    const discard = () => {
      state.layers.proposal.clearLayers();
      result.replaceChildren();
    };
    const apply = async (e) => {
      e.target.disabled = true;
      message.hidden = true;
      const territories = proposal.territories.map((part, i) => {
        const item = { geometry: part.geometry, customer_ids: part.customer_ids };
        if (i < reused.length) item.territory_id = reused[i].territory_id;
        return item;
      });
      try {
        const applied = await api.post("/api/v1/territory-balancer/apply", { team_id: teamId, territories });
        toast(t("balance.done", { moved: applied.moved }), "ok");
        closePanel();
        await reloadAll();
      } catch (error) {
        showError(error);
        e.target.disabled = false;
      }
    };
    result.replaceChildren(
      el("div", { class: "fs-table-wrap" }, summary),
      el("div", { class: "fs-table-wrap" }, parts),
      el(
        "div",
        { class: "fs-row" },
        el("button", {
          type: "button",
          class: "fs-button fs-button-primary",
          "data-testid": "balance-apply",
          text: t("balance.apply"),
          onclick: () => {
            confirmBox.hidden = false;
          },
        }),
        el("button", { type: "button", class: "fs-button fs-button-ghost", "data-testid": "balance-discard", text: t("balance.discard"), onclick: discard })
      ),
      confirmBox
    );
    confirmBox.replaceChildren(
      el("p", { text: t("balance.confirm", { count: proposal.territories.length, reused: reused.length, created }) }),
      el(
        "div",
        { class: "fs-row" },
        el("button", { type: "button", class: "fs-button fs-button-primary", "data-testid": "balance-confirm", text: t("common.confirm"), onclick: apply }),
        el("button", { type: "button", class: "fs-button fs-button-ghost", text: t("common.cancel"), onclick: () => { confirmBox.hidden = true; } })
      )
    );
  }

  openPanel(form);
}

/* ---------- language change ---------- */

/** Geoman's drawing tooltips in the page's language (our strings, for every language). */
function translateGeoman() {
  if (!state.map || !state.map.pm) return;
  const keys = ["firstVertex", "continueLine", "finishPoly", "finishRect"];
  const tooltips = Object.fromEntries(keys.map((key) => [key, t(`geoman.${key}`)]));
  state.map.pm.setLang("fieldsync", { tooltips }, "en");
}

function relabel() {
  if (!state.map) return;
  translateGeoman();
  document.getElementById("fs-count-customers").textContent = fmt.integer(hooks.counts.customers);
  document.getElementById("fs-count-overdue").textContent = fmt.integer(hooks.counts.overdue);
  document.getElementById("fs-count-needs-location").textContent = fmt.integer(hooks.counts.needsLocation);
  renderRouteSummary();
  if (state.hint) setHint(state.hint.key, state.hint.vars);
  if (state.panelRender && !document.getElementById("fs-panel").hidden) state.panelRender();
}
