/* Which tool is active (draw, edit, select): its highlighted button and hint; cancelling a tool
 * stops Geoman and puts an edited territory back as it was. */
import { t } from "../common/i18n.js";
import { state } from "./state.js";

export function setHint(key, vars) {
  state.hint = key ? { key, vars } : null;
  const hint = document.getElementById("fs-tool-hint");
  hint.hidden = !key;
  hint.textContent = key ? t(key, vars) : "";
}

export function cancelTool() {
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

export function activate(buttonId, tool) {
  cancelTool();
  state.tool = tool;
  document.getElementById(buttonId).classList.add("fs-active");
}
