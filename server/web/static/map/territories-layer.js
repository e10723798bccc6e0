/* The territories layer: each territory's polygon in its colour with a tooltip (reps, customer
 * count); also fills the territory filter. */
import { api } from "../common/api.js";
import { el } from "../common/dom.js";
import { t } from "../common/i18n.js";
import { fillSelect } from "./select-options.js";
import { counts, state } from "./state.js";
import { repNames } from "./users-and-teams.js";

export async function loadTerritories() {
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
  counts.territories = state.territoryLayers.size;
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
