/* The rep positions layer: each rep's initials where they last checked in. */
import { api } from "../common/api.js";
import { el } from "../common/dom.js";
import { fmt } from "../common/format.js";
import { t } from "../common/i18n.js";
import { counts, state } from "./state.js";

export async function loadRepPositions() {
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
  counts.reps = group.getLayers().length;
}

function escapeHtml(text) {
  return String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
