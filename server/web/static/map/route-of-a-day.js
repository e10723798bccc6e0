/* "Route of a day": a rep's planned route on a date as a line with numbered stops, its summary,
 * and the dates that have a plan when the chosen one has none. */
import { api, errorText } from "../common/api.js";
import { el } from "../common/dom.js";
import { fmt } from "../common/format.js";
import { t } from "../common/i18n.js";
import { openCustomer } from "./customer-card.js";
import { counts, state } from "./state.js";

export function wireRoute() {
  document.getElementById("fs-route-show").addEventListener("click", showRoute);
  document.getElementById("fs-route-clear").addEventListener("click", clearRoute);
}

/** The route's date starts at today (local time). */
export function setRouteDateToToday() {
  document.getElementById("fs-route-date").value = todayIso();
}

function todayIso() {
  const now = new Date();
  const local = new Date(now.getTime() - now.getTimezoneOffset() * 60000);
  return local.toISOString().slice(0, 10);
}

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
  counts.stops = stops.length;
  renderRouteSummary();
  if (group.getLayers().length) state.map.fitBounds(group.getBounds(), { padding: [40, 40] });
}

export function renderRouteSummary() {
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
  counts.stops = 0;
  document.getElementById("fs-route-summary").replaceChildren();
}
