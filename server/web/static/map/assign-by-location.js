/* Assign by location: preview which of a team's customers lie inside another territory than their
 * own, then move them all (the preview's digest refuses the move if the moves changed since). */
import { api, errorText } from "../common/api.js";
import { el } from "../common/dom.js";
import { t } from "../common/i18n.js";
import { toast } from "../common/toast.js";
import { loadCustomers } from "./customers-layer.js";
import { closePanel, openPanel } from "./panel.js";
import { fillSelect } from "./select-options.js";
import { state } from "./state.js";
import { loadTerritories } from "./territories-layer.js";
import { cancelTool } from "./tool-mode.js";
import { teamsForForm } from "./users-and-teams.js";

export async function assignByLocation() {
  cancelTool();
  state.panelRender = null;
  const team = el("select", { "data-testid": "assign-team" });
  fillSelect(team, teamsForForm(), (x) => x.name, "territory.choose_team");
  if (teamsForForm().length === 1) team.value = teamsForForm()[0].id;
  const result = el("div", { "data-testid": "assign-preview" });
  const message = el("p", { class: "fs-error", role: "alert", hidden: true, "data-testid": "assign-error" });
  const form = el(
    "form",
    { class: "fs-card fs-form", "data-testid": "assign-form" },
    el("h2", { text: t("assign.title") }),
    el("p", { class: "fs-muted", text: t("assign.intro") }),
    el("label", { class: "fs-field" }, el("span", { text: t("territory.team") }), team),
    el("div", { class: "fs-row" }, el("button", { type: "submit", class: "fs-button fs-button-primary", "data-testid": "assign-preview-button", text: t("assign.preview") })),
    message,
    result
  );
  const territoryName = (id) => {
    const found = state.territories.find((f) => f.id === id);
    return found ? found.properties.name : "—";
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.hidden = true;
    result.replaceChildren();
    if (!team.value) return;
    let preview;
    try {
      preview = await api.post("/api/v1/territory-assignments/preview", { team_id: team.value });
    } catch (error) {
      message.textContent = errorText(error);
      message.hidden = false;
      return;
    }
    const moves = preview.moves || [];
    const count = (value) => (Array.isArray(value) ? value.length : value || 0);
    result.replaceChildren(
      el("p", { "data-testid": "assign-summary", text: t("assign.summary", { moves: moves.length, unchanged: count(preview.unchanged), outside: count(preview.outside) }) }),
      moves.length
        ? el(
            "ul",
            { class: "fs-list fs-moves" },
            moves.slice(0, 200).map((m) =>
              el("li", {}, el("strong", { dir: "auto", text: m.name }), el("div", { class: "fs-muted", dir: "auto", text: `${territoryName(m.from_territory_id)} → ${territoryName(m.to_territory_id)}` }))
            )
          )
        : null,
      moves.length
        ? el("button", {
            type: "button",
            class: "fs-button fs-button-primary",
            "data-testid": "assign-apply",
            text: t("assign.apply", { count: moves.length }),
            onclick: async (e) => {
              e.target.disabled = true;
              try {
                await api.post("/api/v1/territory-assignments", { team_id: team.value, digest: preview.digest });
                toast(t("assign.done", { count: moves.length }), "ok");
                closePanel();
                await Promise.all([loadTerritories(), loadCustomers()]);
              } catch (error) {
                message.textContent = error.status === 409 ? t("assign.stale") : errorText(error);
                message.hidden = false;
                e.target.disabled = false;
              }
            },
          })
        : null
    );
  });
  openPanel(form);
}
