/* The territory balancer panel: propose k compact territories of even workload for a team,
 * compare them with today's, preview them dashed on the map, apply after a confirmation. */
import { api, errorText } from "../common/api.js";
import { el } from "../common/dom.js";
import { fmt } from "../common/format.js";
import { t } from "../common/i18n.js";
import { toast } from "../common/toast.js";
import { closePanel, openPanel } from "./panel.js";
import { reloadAll } from "./reload.js";
import { fillSelect } from "./select-options.js";
import { state } from "./state.js";
import { cancelTool } from "./tool-mode.js";
import { teamsForForm } from "./users-and-teams.js";

const PROPOSAL_COLORS = ["#e76f51", "#2a9d8f", "#7b61ff", "#f4a100", "#d62f7f", "#3a86ff", "#6a994e", "#9c6644"];

/** Propose k compact territories of even workload for a team, preview them, apply. */
export function balanceTerritories() {
  cancelTool();
  state.panelRender = null;
  state.layers.proposal.clearLayers();
  const teams = teamsForForm();
  const team = el("select", { "data-testid": "balance-team" });
  fillSelect(team, teams, (x) => x.name, "territory.choose_team");
  if (teams.length === 1) team.value = teams[0].id;
  const repsOf = (teamId) =>
    [...state.users.values()].filter((u) => u.role === "rep" && !u.deleted_at && u.team_id === teamId).length;
  const defaultK = () => Math.min(50, Math.max(2, repsOf(team.value) || 2));
  const k = el("input", { type: "number", min: 2, max: 50, step: 1, required: true, value: defaultK(), "data-testid": "balance-k" });
  team.addEventListener("change", () => {
    k.value = defaultK();
    result.replaceChildren();
    state.layers.proposal.clearLayers();
  });
  const result = el("div", { "data-testid": "balance-result" });
  const message = el("p", { class: "fs-error", role: "alert", hidden: true, "data-testid": "balance-error" });
  const propose = el("button", { type: "submit", class: "fs-button fs-button-primary", "data-testid": "balance-propose", text: t("balance.propose") });
  const form = el(
    "form",
    { class: "fs-card fs-form", "data-testid": "balance-form" },
    el("h2", { text: t("balance.title") }),
    el("p", { class: "fs-muted", text: t("balance.intro") }),
    teams.length === 1
      ? el("p", {}, el("span", { class: "fs-muted", text: `${t("territory.team")}: ` }), el("strong", { dir: "auto", text: teams[0].name }))
      : el("label", { class: "fs-field" }, el("span", { text: t("territory.team") }), team),
    el("label", { class: "fs-field" }, el("span", { text: t("balance.k") }), k),
    el("div", { class: "fs-row" }, propose),
    message,
    result
  );
  const showError = (error) => {
    message.textContent = errorText(error);
    message.hidden = false;
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.hidden = true;
    result.replaceChildren();
    state.layers.proposal.clearLayers();
    if (!team.value) return;
    const teamId = team.value;
    propose.disabled = true;
    let body;
    try {
      body = await api.post("/api/v1/territory-balancer/proposals", { team_id: teamId, k: Number(k.value) });
    } catch (error) {
      showError(error);
      return;
    } finally {
      propose.disabled = false;
    }
    showProposal(body, teamId);
  });

  function showProposal(body, teamId) {
    const { current, proposal } = body;
    const two = (value) => fmt.number(value, { minimumFractionDigits: 2, maximumFractionDigits: 2 });
    const hours = (minutes) => fmt.number(minutes / 60, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    const num = (text, testid) => el("td", { class: "fs-num", "data-testid": testid, text });
    const summary = el(
      "table",
      { class: "fs-table fs-balance-table", "data-testid": "balance-table" },
      el("thead", {}, el("tr", {}, el("th", {}), el("th", { class: "fs-num", text: t("balance.today") }), el("th", { class: "fs-num", text: t("balance.proposal") }))),
      el(
        "tbody",
        {},
        el("tr", {}, el("th", { text: t("balance.territories") }), num(fmt.integer(current.territories.length), "balance-today-count"), num(fmt.integer(proposal.territories.length), "balance-proposal-count")),
        el("tr", {}, el("th", { text: t("balance.imbalance") }), num(two(current.imbalance), "balance-today-imbalance"), num(two(proposal.imbalance), "balance-proposal-imbalance")),
        el("tr", {}, el("th", { text: t("balance.compactness") }), num(two(current.compactness), "balance-today-compactness"), num(two(proposal.compactness), "balance-proposal-compactness"))
      )
    );
    const color = (i) => PROPOSAL_COLORS[i % PROPOSAL_COLORS.length];
    const parts = el(
      "table",
      { class: "fs-table fs-balance-table", "data-testid": "balance-parts" },
      el("thead", {}, el("tr", {}, el("th", { text: t("balance.part") }), el("th", { class: "fs-num", text: t("balance.customers") }), el("th", { class: "fs-num", text: t("balance.hours") }))),
      el(
        "tbody",
        {},
        proposal.territories.map((part, i) =>
          el(
            "tr",
            {},
            el("th", {}, el("span", { class: "fs-swatch", style: `background:${color(i)}` }), t("balance.part_name", { number: i + 1 })),
            num(fmt.integer(part.customers)),
            num(hours(part.workload_minutes))
          )
        )
      )
    );
    proposal.territories.forEach((part, i) => {
      if (!part.geometry) return;
      L.geoJSON(part.geometry, {
        interactive: false,
        style: { className: "fs-proposal", color: color(i), weight: 3, dashArray: "8 6", fillColor: color(i), fillOpacity: 0.12 },
      }).addTo(state.layers.proposal);
    });
    if (state.layers.proposal.getLayers().length) {
      state.map.fitBounds(state.layers.proposal.getBounds(), { padding: [30, 30], animate: false });
    }
    const reused = current.territories.slice(0, proposal.territories.length);
    const created = proposal.territories.length - reused.length;
    const confirmBox = el("div", { class: "fs-confirm", hidden: true });
    const discard = () => {
      state.layers.proposal.clearLayers();
      result.replaceChildren();
    };
    const apply = async (e) => {
      e.target.disabled = true;
      message.hidden = true;
      const territories = proposal.territories.map((part, i) => {
        const item = { geometry: part.geometry, customer_ids: part.customer_ids };
        if (i < reused.length) item.territory_id = reused[i].territory_id;
        return item;
      });
      try {
        const applied = await api.post("/api/v1/territory-balancer/apply", { team_id: teamId, territories });
        toast(t("balance.done", { moved: applied.moved }), "ok");
        closePanel();
        await reloadAll();
      } catch (error) {
        showError(error);
        e.target.disabled = false;
      }
    };
    result.replaceChildren(
      el("div", { class: "fs-table-wrap" }, summary),
      el("div", { class: "fs-table-wrap" }, parts),
      el(
        "div",
        { class: "fs-row" },
        el("button", {
          type: "button",
          class: "fs-button fs-button-primary",
          "data-testid": "balance-apply",
          text: t("balance.apply"),
          onclick: () => {
            confirmBox.hidden = false;
          },
        }),
        el("button", { type: "button", class: "fs-button fs-button-ghost", "data-testid": "balance-discard", text: t("balance.discard"), onclick: discard })
      ),
      confirmBox
    );
    confirmBox.replaceChildren(
      el("p", { text: t("balance.confirm", { count: proposal.territories.length, reused: reused.length, created }) }),
      el(
        "div",
        { class: "fs-row" },
        el("button", { type: "button", class: "fs-button fs-button-primary", "data-testid": "balance-confirm", text: t("common.confirm"), onclick: apply }),
        el("button", { type: "button", class: "fs-button fs-button-ghost", text: t("common.cancel"), onclick: () => { confirmBox.hidden = true; } })
      )
    );
  }

  openPanel(form);
}
