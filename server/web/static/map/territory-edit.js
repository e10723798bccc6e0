/* Edit a territory's shape: drag its vertices with Geoman, save with If-Match on its version
 * (a conflict is explained, not overwritten). */
import { api, errorText } from "../common/api.js";
import { el } from "../common/dom.js";
import { t } from "../common/i18n.js";
import { toast } from "../common/toast.js";
import { loadCustomers } from "./customers-layer.js";
import { closePanel, openPanel } from "./panel.js";
import { territoryOptions } from "./select-options.js";
import { state } from "./state.js";
import { loadTerritories } from "./territories-layer.js";
import { activate, cancelTool, setHint } from "./tool-mode.js";

export function startEdit() {
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
