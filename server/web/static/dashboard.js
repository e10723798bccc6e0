/* The managers' dashboard page (/dashboard): KPIs per rep and team for a month, and a weekly
 * trend chart. Reads GET /api/v1/kpis?period=YYYY-MM&team_id=…
 *
 * dashboard.html loads this file as the page's only module script; nothing imports it.
 */
import { start } from "./common.js";
import { api, errorText } from "./common/api.js";
import { el } from "./common/dom.js";
import { fmt } from "./common/format.js";
import { i18n, t } from "./common/i18n.js";

/** [key, label key, formatter] of each KPI column. */
const COLUMNS = [
  ["visits_planned", "kpi.visits_planned", "integer"],
  ["visits_completed", "kpi.visits_completed", "integer"],
  ["visits_missed", "kpi.visits_missed", "integer"],
  ["plan_adherence", "kpi.plan_adherence", "percent"],
  ["verified_check_in_rate", "kpi.verified_check_in_rate", "percent"],
  ["orders", "kpi.orders", "integer"],
  ["revenue", "kpi.revenue", "money"],
  ["average_order_value", "kpi.average_order_value", "money"],
  ["conversion_rate", "kpi.conversion_rate", "percent"],
  ["coverage", "kpi.coverage", "percent"],
  ["overdue_total", "kpi.overdue_customers", "integer"],
  ["new_customers", "kpi.new_customers", "integer"],
  ["quota_revenue", "kpi.quota_revenue", "percent"],
  ["quota_visits", "kpi.quota_visits", "percent"],
];

const state = { report: null, chart: null, teams: [], user: null };
const hooks = { ready: false, rows: 0, get report() { return state.report; } };
window.fieldsyncDashboard = hooks;

start({ roles: ["manager", "admin"], onReady: init, onLanguage: render });

async function init(user) {
  state.user = user;
  const period = document.getElementById("fs-period");
  if (!period.value) period.value = new Date().toISOString().slice(0, 7);
  state.teams = (await api.listAll("/api/v1/teams", { sort: "name" })).filter((team) => !team.deleted_at);
  const select = document.getElementById("fs-team");
  const options = state.teams.map((team) => el("option", { value: team.id, dir: "auto", text: team.name }));
  if (user.role === "admin" || state.teams.length !== 1) {
    options.unshift(el("option", { value: "", "data-i18n": "dashboard.all_teams", text: t("dashboard.all_teams") }));
  }
  select.replaceChildren(...options);
  if (!select.dataset.wired) {
    select.dataset.wired = "1";
    select.addEventListener("change", load);
    period.addEventListener("change", load);
  }
  await load();
}

async function load() {
  const error = document.getElementById("fs-dash-error");
  error.hidden = true;
  hooks.ready = false;
  try {
    state.report = await api.get("/api/v1/kpis", {
      period: document.getElementById("fs-period").value,
      team_id: document.getElementById("fs-team").value,
    });
  } catch (failure) {
    state.report = null;
    error.textContent = errorText(failure);
    error.hidden = false;
  }
  render();
  hooks.ready = true;
  document.body.dataset.ready = "true";
}

function value(row, key) {
  if (key === "quota_revenue") return row.quota ? row.quota.revenue_attainment : null;
  if (key === "quota_visits") return row.quota ? row.quota.visits_attainment : null;
  if (key === "overdue_total") {
    if (row.overdue_total !== undefined) return row.overdue_total;
    return Array.isArray(row.overdue_customers) ? row.overdue_customers.length : row.overdue_customers;
  }
  return row[key];
}

function cell(row, [key, , kind]) {
  const raw = value(row, key);
  const currency = (state.report && state.report.currency) || "VND";
  const text = kind === "money" ? fmt.money(raw, currency) : kind === "percent" ? fmt.percent(raw) : fmt.integer(raw);
  return el("td", { class: "fs-num", dataset: { kpi: key }, text });
}

function render() {
  const head = document.getElementById("fs-kpi-head");
  const body = document.getElementById("fs-kpi-body");
  const foot = document.getElementById("fs-kpi-foot");
  head.replaceChildren(
    el("th", { scope: "col", text: t("kpi.rep") }),
    ...COLUMNS.map(([, label]) => el("th", { scope: "col", class: "fs-num", text: t(label) }))
  );
  const report = state.report;
  if (!report) {
    body.replaceChildren();
    foot.replaceChildren();
    document.getElementById("fs-summary").replaceChildren();
    document.getElementById("fs-period-range").textContent = "";
    hooks.rows = 0;
    drawChart([]);
    return;
  }
  const reps = report.reps || [];
  body.replaceChildren(
    ...reps.map((row) =>
      el(
        "tr",
        { "data-testid": "kpi-rep-row", dataset: { repId: row.rep_id } },
        el("th", { scope: "row", dir: "auto", text: row.name }),
        ...COLUMNS.map((column) => cell(row, column))
      )
    )
  );
  if (!reps.length) {
    body.replaceChildren(el("tr", {}, el("td", { colspan: COLUMNS.length + 1, class: "fs-muted", text: t("dashboard.no_reps") })));
  }
  const team = report.team;
  foot.replaceChildren(
    team
      ? el(
          "tr",
          { "data-testid": "kpi-team-row" },
          el("th", { scope: "row", dir: "auto", text: team.name ? `${t("kpi.team")} · ${team.name}` : t("kpi.team") }),
          ...COLUMNS.map((column) => cell(team, column))
        )
      : ""
  );
  hooks.rows = reps.length;
  const period = report.period || {};
  document.getElementById("fs-period-range").textContent = period.from
    ? t("dashboard.range", {
        from: fmt.date(period.from + "T12:00:00"),
        to: fmt.date(period.to + "T12:00:00"),
        timezone: period.timezone || "",
      })
    : "";
  renderSummary(team || {});
  drawChart(report.trend || []);
}

function renderSummary(team) {
  const currency = (state.report && state.report.currency) || "VND";
  const cards = [
    ["kpi.visits_completed", fmt.integer(team.visits_completed)],
    ["kpi.revenue", fmt.money(team.revenue, currency)],
    ["kpi.plan_adherence", fmt.percent(team.plan_adherence)],
    ["kpi.coverage", fmt.percent(team.coverage)],
    ["kpi.conversion_rate", fmt.percent(team.conversion_rate)],
  ];
  document.getElementById("fs-summary").replaceChildren(
    ...cards.map(([label, text]) =>
      el("div", { class: "fs-kpi-card" }, el("div", { class: "fs-kpi-label", text: t(label) }), el("div", { class: "fs-kpi-value", text }))
    )
  );
}

function drawChart(trend) {
  const canvas = document.getElementById("fs-trend");
  if (typeof Chart === "undefined") return;
  const rtl = document.documentElement.dir === "rtl";
  const labels = trend.map((week) => fmt.date((week.week_start || week.from) + "T12:00:00"));
  const data = {
    labels,
    datasets: [
      {
        type: "bar",
        label: t("kpi.visits_completed"),
        data: trend.map((week) => week.visits_completed),
        backgroundColor: "rgba(47, 111, 219, 0.75)",
        borderRadius: 4,
        yAxisID: "visits",
        order: 2,
      },
      {
        type: "line",
        label: t("kpi.revenue"),
        data: trend.map((week) => Number(week.revenue || 0)),
        borderColor: "#e8772e",
        backgroundColor: "#e8772e",
        tension: 0.25,
        yAxisID: "revenue",
        order: 1,
      },
    ],
  };
  const options = {
    responsive: true,
    maintainAspectRatio: false,
    animation: false,
    locale: i18n.lang,
    interaction: { mode: "index", intersect: false },
    plugins: {
      legend: { rtl, position: "top" },
      tooltip: {
        rtl,
        callbacks: {
          label: (item) =>
            item.dataset.yAxisID === "revenue"
              ? `${item.dataset.label}: ${fmt.money(item.raw, (state.report || {}).currency)}`
              : `${item.dataset.label}: ${fmt.integer(item.raw)}`,
        },
      },
    },
    scales: {
      x: { reverse: rtl, grid: { display: false } },
      visits: {
        type: "linear",
        position: rtl ? "right" : "left",
        beginAtZero: true,
        title: { display: true, text: t("kpi.visits_completed") },
        // Whole visits only: 0.1 steps printed as integers read "0 0 … 1 1".
        ticks: { precision: 0, callback: (v) => fmt.integer(v) },
      },
      revenue: {
        type: "linear",
        position: rtl ? "left" : "right",
        beginAtZero: true,
        grid: { drawOnChartArea: false },
        title: { display: true, text: t("kpi.revenue") },
        ticks: { callback: (v) => fmt.compact(v) },
      },
    },
  };
  if (state.chart) state.chart.destroy();
  state.chart = new Chart(canvas, { data, options });
}
