/* The side panel beside the map, which shows the customer card or a tool's form. */
import { state } from "./state.js";

export function openPanel(...children) {
  const panel = document.getElementById("fs-panel");
  document.getElementById("fs-panel-body").replaceChildren(...children);
  panel.hidden = false;
  state.map.invalidateSize();
}

export function closePanel() {
  document.getElementById("fs-panel").hidden = true;
  document.getElementById("fs-panel-body").replaceChildren();
  state.panelRender = null;
  state.layers.proposal.clearLayers();
  state.map.invalidateSize();
}

export function wirePanel() {
  document.getElementById("fs-panel-close").addEventListener("click", closePanel);
}
