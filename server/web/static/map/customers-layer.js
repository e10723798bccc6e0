/* The customers layer: one circle per located customer, coloured by status and ringed when a
 * visit is overdue, fetched with the sidebar's filters; the counts under the map. */
import { api, errorText } from "../common/api.js";
import { el } from "../common/dom.js";
import { fmt } from "../common/format.js";
import { toast } from "../common/toast.js";
import { openCustomer } from "./customer-card.js";
import { customerFilter } from "./filters.js";
import { counts, state } from "./state.js";

const STATUS_COLORS = {
  active: "#2a9d5c",
  prospect: "#2f6fdb",
  lead: "#8e5bd0",
  inactive: "#8a94a6",
};
const OVERDUE_RING = "#e02d3c";

export async function loadCustomers() {
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
  Object.assign(counts, {
    customers: state.customerMarkers.size,
    overdue,
    needsLocation,
  });
  showCounts();
  markSelection();
}

/** The numbers under the map, in the page's language. */
export function showCounts() {
  document.getElementById("fs-count-customers").textContent = fmt.integer(counts.customers);
  document.getElementById("fs-count-overdue").textContent = fmt.integer(counts.overdue);
  document.getElementById("fs-count-needs-location").textContent = fmt.integer(counts.needsLocation);
}

/** Outline the selected customers' circles (the selection is state.selection). */
export function markSelection() {
  const chosen = new Set(state.selection);
  for (const [id, marker] of state.customerMarkers) {
    const path = marker.getElement();
    if (path) path.classList.toggle("fs-selected", chosen.has(id));
  }
}
