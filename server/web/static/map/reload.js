/* Load everything the map shows (people and territories first, then customers and reps) behind
 * the loading overlay. */
import { errorText } from "../common/api.js";
import { toast } from "../common/toast.js";
import { loadCustomers } from "./customers-layer.js";
import { loadRepPositions } from "./reps-layer.js";
import { loadTerritories } from "./territories-layer.js";
import { loadUsersAndTeams } from "./users-and-teams.js";

export async function reloadAll() {
  setLoading(true);
  try {
    await Promise.all([loadUsersAndTeams(), loadTerritories()]);
    await Promise.all([loadCustomers(), loadRepPositions()]);
  } catch (error) {
    toast(errorText(error), "error");
  } finally {
    setLoading(false);
  }
}

function setLoading(on) {
  document.getElementById("fs-loading").hidden = !on;
}
