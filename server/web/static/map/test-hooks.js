/* window.fieldsyncMap: what the browser tests (tests/e2e/browser/) read and call on the map page.
 *
 * Besides these, tests find customer markers by the class `fs-customer` (and `fs-overdue`,
 * `fs-selected`), territory polygons `fs-territory`, proposed territories (dashed preview)
 * `fs-proposal`, route stops `fs-stop` (text: the stop number), rep positions `fs-rep`.
 */
import { openCustomer } from "./customer-card.js";
import { reloadAll } from "./reload.js";
import { counts, state } from "./state.js";

export const hooks = {
  ready: false,
  counts,
  selection: () => [...state.selection],
  customerIds: () => [...state.customerMarkers.keys()],
  openCustomer: (id) => openCustomer(id),
  reload: () => reloadAll(),
  get map() {
    return state.map;
  },
};
window.fieldsyncMap = hooks;
