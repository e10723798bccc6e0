/* The Leaflet map itself: view, tiles (or a plain background), scale, one layer group per
 * overlay and the sidebar's checkboxes that show or hide them; Geoman in the page's language. */
import { config } from "../common/config.js";
import { t } from "../common/i18n.js";
import { state } from "./state.js";

const DEMO_CENTER = [10.79, 106.7];

export function createMap() {
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
  // Geoman: no toolbar of its own; our buttons drive it (toolbar.js).
  if (map.pm) {
    map.pm.setGlobalOptions({ snappable: false, allowSelfIntersection: false });
    translateGeoman();
  }
}

/** The sidebar's "Layers" checkboxes. */
export function wireLayerSwitches() {
  document.querySelectorAll("[data-layer]").forEach((box) => {
    box.addEventListener("change", () => {
      const layer = state.layers[box.dataset.layer];
      if (box.checked) layer.addTo(state.map);
      else layer.remove();
      if (box.dataset.layer === "territories" && box.checked) layer.bringToBack();
    });
  });
}

/** Geoman's drawing tooltips in the page's language (our strings, for every language). */
export function translateGeoman() {
  if (!state.map || !state.map.pm) return;
  const keys = ["firstVertex", "continueLine", "finishPoly", "finishRect"];
  const tooltips = Object.fromEntries(keys.map((key) => [key, t(`geoman.${key}`)]));
  state.map.pm.setLang("fieldsync", { tooltips }, "en");
}
