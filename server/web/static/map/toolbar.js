/* The sidebar's tool buttons and Escape; a shape drawn with Geoman goes to the tool that asked
 * for it (a new territory, or a box/lasso selection). */
import { assignByLocation } from "./assign-by-location.js";
import { selectInside, startSelect } from "./select-and-reassign.js";
import { state } from "./state.js";
import { balanceTerritories } from "./territory-balancer.js";
import { newTerritoryForm, startDraw } from "./territory-draw.js";
import { startEdit } from "./territory-edit.js";
import { cancelTool, setHint } from "./tool-mode.js";

export function wireToolbar() {
  if (state.map.pm) state.map.on("pm:create", onShapeCreated);
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
