/* Draw a new territory: a polygon with Geoman, then its name, team and colour, saved with
 * POST /territories. */
import { api, errorText } from "../common/api.js";
import { el } from "../common/dom.js";
import { t } from "../common/i18n.js";
import { toast } from "../common/toast.js";
import { loadCustomers } from "./customers-layer.js";
import { closePanel, openPanel } from "./panel.js";
import { fillSelect } from "./select-options.js";
import { state } from "./state.js";
import { loadTerritories } from "./territories-layer.js";
import { activate, setHint } from "./tool-mode.js";
import { teamsForForm } from "./users-and-teams.js";

export function startDraw() {
  activate("fs-tool-draw", "draw");
  setHint("tools.draw_hint");
  state.map.pm.enableDraw("Polygon", { pathOptions: { color: "#1d3557", fillOpacity: 0.15 } });
}

export function newTerritoryForm(geometry) {
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
