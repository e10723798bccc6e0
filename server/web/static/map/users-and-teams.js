/* The users and teams the manager may see: loaded once per reload, used for names, the rep
 * pickers and the team of a new territory. */
import { api } from "../common/api.js";
import { fillSelect } from "./select-options.js";
import { state } from "./state.js";

export async function loadUsersAndTeams() {
  const [users, teams] = await Promise.all([
    api.listAll("/api/v1/users", { sort: "name" }),
    api.listAll("/api/v1/teams", { sort: "name" }),
  ]);
  state.users = new Map(users.map((u) => [u.id, u]));
  state.teams = teams;
  const reps = users.filter((u) => u.role === "rep" && !u.deleted_at);
  fillSelect(document.getElementById("fs-filter-rep"), reps, (u) => u.name, "filters.all");
  fillSelect(document.getElementById("fs-route-rep"), reps, (u) => u.name, "route.choose_rep");
}

export function repNames(ids) {
  return (ids || []).map((id) => (state.users.get(id) || {}).name || "?").join(", ");
}

export function teamsForForm() {
  const teams = state.teams.filter((team) => !team.deleted_at);
  return teams.length ? teams : [];
}
