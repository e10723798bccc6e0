/* The managers' map page (/map): once a manager or admin is signed in (common.js), build the map,
 * wire the sidebar and load what the map shows. The parts are in map/, one job each.
 *
 * map.html loads this file as the page's only module script (its URL carries ?v=<content hash>);
 * nothing imports it. Every module is served with `Cache-Control: no-cache` and revalidated.
 */
import { start } from "./common.js";
import { createMap, translateGeoman, wireLayerSwitches } from "./map/base-map.js";
import { loadCustomers, showCounts } from "./map/customers-layer.js";
import { wireFilters } from "./map/filters.js";
import { wirePanel } from "./map/panel.js";
import { reloadAll } from "./map/reload.js";
import { renderRouteSummary, setRouteDateToToday, wireRoute } from "./map/route-of-a-day.js";
import { state } from "./map/state.js";
import { hooks } from "./map/test-hooks.js";
import { setHint } from "./map/tool-mode.js";
import { wireToolbar } from "./map/toolbar.js";

start({
  roles: ["manager", "admin"],
  onReady: init,
  onLanguage: relabel,
});

async function init(user) {
  state.user = user;
  if (!state.map) createMap();
  wireControls();
  setRouteDateToToday();
  await reloadAll();
  hooks.ready = true;
  document.body.dataset.ready = "true";
}

let wired = false;
function wireControls() {
  if (wired) return;
  wired = true;
  wireLayerSwitches();
  wireFilters(loadCustomers);
  wireRoute();
  wirePanel();
  wireToolbar();
}

/** After a language change: what the page's data-i18n attributes don't cover. */
function relabel() {
  if (!state.map) return;
  translateGeoman();
  showCounts();
  renderRouteSummary();
  if (state.hint) setHint(state.hint.key, state.hint.vars);
  if (state.panelRender && !document.getElementById("fs-panel").hidden) state.panelRender();
}
