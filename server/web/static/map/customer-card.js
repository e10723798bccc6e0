/* The customer card in the side panel: status, address, owner, contacts, last visits and open
 * orders of one customer. */
import { api, errorText } from "../common/api.js";
import { el } from "../common/dom.js";
import { fmt } from "../common/format.js";
import { t } from "../common/i18n.js";
import { openPanel } from "./panel.js";
import { state } from "./state.js";

const OPEN_ORDER_STATUSES = ["draft", "submitted"];

export async function openCustomer(id) {
  state.panelRender = () => openCustomer(id);
  openPanel(el("div", { class: "fs-card", "data-testid": "customer-card" }, el("p", { class: "fs-muted", text: t("common.loading") })));
  let customer, contacts, visits, orders;
  try {
    [customer, contacts, visits, orders] = await Promise.all([
      api.get(`/api/v1/customers/${id}`),
      api.listAll("/api/v1/contacts", { customer_id: id, sort: "name" }, 2),
      api.listAll("/api/v1/visits", { customer_id: id }, 4),
      api.listAll("/api/v1/orders", { customer_id: id }, 4),
    ]);
  } catch (error) {
    openPanel(el("div", { class: "fs-card", "data-testid": "customer-card" }, el("p", { class: "fs-error", text: errorText(error) })));
    return;
  }
  const feature = state.customers.find((f) => f.id === id);
  const overdue = feature ? feature.properties.overdue : false;
  const when = (v) => v.check_in_at || v.planned_at || v.created_at;
  const lastVisits = visits
    .filter((v) => v.status !== "planned")
    .sort((a, b) => String(when(b)).localeCompare(String(when(a))))
    .slice(0, 5);
  const openOrders = orders
    .filter((o) => OPEN_ORDER_STATUSES.includes(o.status))
    .sort((a, b) => String(b.submitted_at || b.created_at).localeCompare(String(a.submitted_at || a.created_at)))
    .slice(0, 5);
  const territory = state.territories.find((f) => f.id === customer.territory_id);
  const owner = state.users.get(customer.owner_id);
  const address = [customer.address, customer.city, customer.postal_code].filter(Boolean).join(", ");

  const card = el(
    "div",
    { class: "fs-card", "data-testid": "customer-card", dataset: { customerId: id } },
    el("h2", { class: "fs-card-title", dir: "auto", "data-testid": "card-name", text: customer.name }),
    el(
      "div",
      { class: "fs-badges" },
      el("span", { class: `fs-badge fs-badge-${customer.status}`, "data-testid": "card-status", text: t(`status.${customer.status}`) }),
      el("span", { class: "fs-badge fs-badge-tier", text: t("card.tier", { tier: customer.tier }) }),
      overdue ? el("span", { class: "fs-badge fs-badge-overdue", text: t("card.overdue") }) : null,
      customer.lat === null ? el("span", { class: "fs-badge", text: t("card.needs_location") }) : null
    ),
    el(
      "dl",
      { class: "fs-dl" },
      el("dt", { text: t("card.address") }), el("dd", { dir: "auto", text: address || "—" }),
      el("dt", { text: t("card.phone") }), el("dd", { dir: "ltr", text: customer.phone || "—" }),
      el("dt", { text: t("card.territory") }), el("dd", { dir: "auto", text: territory ? territory.properties.name : "—" }),
      el("dt", { text: t("card.owner") }), el("dd", { dir: "auto", text: owner ? owner.name : "—" }),
      el("dt", { text: t("card.visit_every") }), el("dd", { text: t("card.days", { count: customer.visit_every_days }) }),
      el("dt", { text: t("card.last_visit") }), el("dd", { text: fmt.date(customer.last_visit_at) })
    ),
    el("h3", { text: t("card.contacts") }),
    contacts.length
      ? el(
          "ul",
          { class: "fs-list", "data-testid": "card-contacts" },
          contacts.map((c) =>
            el(
              "li",
              {},
              el("strong", { dir: "auto", text: c.name }),
              c.role ? el("span", { class: "fs-muted", dir: "auto", text: ` · ${c.role}` }) : null,
              c.phone ? el("div", { dir: "ltr", class: "fs-phone", text: c.phone }) : null,
              c.email ? el("div", { dir: "ltr", text: c.email }) : null
            )
          )
        )
      : el("p", { class: "fs-muted", text: t("card.no_contacts") }),
    el("h3", { text: t("card.last_visits") }),
    lastVisits.length
      ? el(
          "ul",
          { class: "fs-list", "data-testid": "card-visits" },
          lastVisits.map((v) =>
            el(
              "li",
              {},
              el("span", { text: fmt.date(when(v)) }),
              " · ",
              el("span", { class: `fs-visit-${v.status}`, text: t(`visit.${v.status}`) }),
              v.outcome ? el("span", { class: "fs-muted", text: ` · ${t(`outcome.${v.outcome}`)}` }) : null,
              v.rep_id && state.users.get(v.rep_id)
                ? el("div", { class: "fs-muted", dir: "auto", text: state.users.get(v.rep_id).name })
                : null
            )
          )
        )
      : el("p", { class: "fs-muted", text: t("card.no_visits") }),
    el("h3", { text: t("card.open_orders") }),
    openOrders.length
      ? el(
          "ul",
          { class: "fs-list", "data-testid": "card-orders" },
          openOrders.map((o) =>
            el(
              "li",
              {},
              el("span", { text: fmt.date(o.submitted_at || o.created_at) }),
              " · ",
              el("span", { text: t(`order.${o.status}`) }),
              el("strong", { class: "fs-amount", text: fmt.money(o.total, o.currency) })
            )
          )
        )
      : el("p", { class: "fs-muted", text: t("card.no_orders") })
  );
  openPanel(card);
  const marker = state.customerMarkers.get(id);
  if (marker) {
    marker.bringToFront();
  }
}
