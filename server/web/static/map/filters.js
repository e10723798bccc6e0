/* The sidebar's customer filters (territory, rep, status, overdue) as API query parameters. */

const FILTERS = ["fs-filter-territory", "fs-filter-rep", "fs-filter-status", "fs-filter-overdue"];

export function customerFilter() {
  return {
    territory_id: document.getElementById("fs-filter-territory").value,
    rep_id: document.getElementById("fs-filter-rep").value,
    status: document.getElementById("fs-filter-status").value,
    overdue: document.getElementById("fs-filter-overdue").value,
  };
}

/** Call `onChange()` whenever a filter changes. */
export function wireFilters(onChange) {
  for (const id of FILTERS) {
    document.getElementById(id).addEventListener("change", () => onChange());
  }
}
