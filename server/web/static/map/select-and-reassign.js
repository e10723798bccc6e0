/* Box or lasso select customers on the map, then move them to another territory and/or owner
 * (POST /customers/reassign) after a confirmation. */
import { api, errorText } from "../common/api.js";
import { el } from "../common/dom.js";
import { t } from "../common/i18n.js";
import { toast } from "../common/toast.js";
import { loadCustomers, markSelection } from "./customers-layer.js";
import { closePanel, openPanel } from "./panel.js";
import { fillSelect, territoryOptions } from "./select-options.js";
import { state } from "./state.js";
import { loadTerritories } from "./territories-layer.js";
import { activate, setHint } from "./tool-mode.js";

export function startSelect(shape) {
  activate(shape === "Rectangle" ? "fs-tool-box" : "fs-tool-lasso", "select");
  setHint(shape === "Rectangle" ? "tools.box_hint" : "tools.lasso_hint");
  state.map.pm.enableDraw(shape, { pathOptions: { color: "#f4a100", dashArray: "6 4", fillOpacity: 0.08 } });
}

/** Ray casting over [lon, lat] pairs. */
function pointInRing(point, ring) {
  const [x, y] = point;
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i];
    const [xj, yj] = ring[j];
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function selectInside(ring) {
  state.selection = state.customers
    .filter((f) => f.geometry && pointInRing(f.geometry.coordinates, ring))
    .map((f) => f.id);
  markSelection();
  reassignForm();
}

function clearSelection() {
  state.selection = [];
  markSelection();
}

function reassignForm() {
  state.panelRender = reassignForm;
  const count = state.selection.length;
  const territory = el("select", { "data-testid": "reassign-territory" });
  territoryOptions(territory, "reassign.keep");
  const owner = el("select", { "data-testid": "reassign-owner" });
  fillSelect(owner, [...state.users.values()].filter((u) => u.role === "rep"), (u) => u.name, "reassign.keep");
  const message = el("p", { class: "fs-error", role: "alert", hidden: true });
  const confirmBox = el("div", { class: "fs-confirm", hidden: true });
  const form = el(
    "form",
    { class: "fs-card fs-form", "data-testid": "reassign-form" },
    el("h2", { text: t("reassign.title") }),
    el("p", { "data-testid": "selection-count", text: t("reassign.selected", { count }) }),
    el("label", { class: "fs-field" }, el("span", { text: t("reassign.to_territory") }), territory),
    el("label", { class: "fs-field" }, el("span", { text: t("reassign.to_owner") }), owner),
    message,
    el(
      "div",
      { class: "fs-row" },
      el("button", { type: "submit", class: "fs-button fs-button-primary", "data-testid": "reassign-submit", disabled: count === 0, text: t("reassign.submit") }),
      el("button", { type: "button", class: "fs-button fs-button-ghost", text: t("common.cancel"), onclick: () => { clearSelection(); closePanel(); } })
    ),
    confirmBox
  );
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    message.hidden = true;
    if (!territory.value && !owner.value) {
      message.textContent = t("reassign.need_target");
      message.hidden = false;
      return;
    }
    const target = [
      territory.value ? territory.selectedOptions[0].textContent : null,
      owner.value ? owner.selectedOptions[0].textContent : null,
    ].filter(Boolean).join(" · ");
    confirmBox.replaceChildren(
      el("p", { text: t("reassign.confirm", { count, target }) }),
      el(
        "div",
        { class: "fs-row" },
        el("button", {
          type: "button",
          class: "fs-button fs-button-primary",
          "data-testid": "reassign-confirm",
          text: t("common.confirm"),
          onclick: async (e) => {
            e.target.disabled = true;
            const body = { customer_ids: state.selection };
            if (territory.value) body.territory_id = territory.value;
            if (owner.value) body.owner_id = owner.value;
            try {
              const result = await api.post("/api/v1/customers/reassign", body);
              toast(t("reassign.done", { count: result.updated ?? count }), "ok");
              clearSelection();
              closePanel();
              await Promise.all([loadTerritories(), loadCustomers()]);
            } catch (error) {
              message.textContent = errorText(error);
              message.hidden = false;
              e.target.disabled = false;
            }
          },
        }),
        el("button", { type: "button", class: "fs-button fs-button-ghost", text: t("common.cancel"), onclick: () => { confirmBox.hidden = true; } })
      )
    );
    confirmBox.hidden = false;
  });
  openPanel(form);
}
