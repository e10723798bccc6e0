/* Fill a <select> with items and a translated empty choice, keeping the current choice when it
 * is still there (the sidebar's filters and the tools' forms). */
import { el } from "../common/dom.js";
import { t } from "../common/i18n.js";
import { state } from "./state.js";

export function fillSelect(select, items, label, emptyKey) {
  const current = select.value;
  select.replaceChildren(
    el("option", { value: "", "data-i18n": emptyKey, text: t(emptyKey) }),
    ...items.map((item) => el("option", { value: item.id, text: label(item) }))
  );
  if ([...select.options].some((o) => o.value === current)) select.value = current;
}

export function territoryOptions(select, emptyKey) {
  fillSelect(
    select,
    state.territories.map((f) => ({ id: f.id, name: f.properties.name })),
    (x) => x.name,
    emptyKey
  );
}
