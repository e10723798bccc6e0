/* Numbers, money, percentages, dates and times formatted in the page's language (Intl). */
import { i18n } from "./i18n.js";

export const fmt = {
  number(value, options) {
    if (value === null || value === undefined || value === "") return "—";
    return new Intl.NumberFormat(i18n.lang, options).format(Number(value));
  },
  integer(value) {
    return fmt.number(value, { maximumFractionDigits: 0 });
  },
  percent(value) {
    if (value === null || value === undefined) return "—";
    return fmt.number(value, { style: "percent", maximumFractionDigits: 1 });
  },
  money(value, currency) {
    if (value === null || value === undefined || value === "") return "—";
    try {
      return new Intl.NumberFormat(i18n.lang, {
        style: "currency",
        currency: currency || "VND",
        maximumFractionDigits: 0,
      }).format(Number(value));
    } catch (error) {
      return fmt.number(value);
    }
  },
  compact(value) {
    return fmt.number(value, { notation: "compact", maximumFractionDigits: 1 });
  },
  date(value) {
    if (!value) return "—";
    const moment = new Date(value);
    return new Intl.DateTimeFormat(i18n.lang, { dateStyle: "medium" }).format(moment);
  },
  dateTime(value) {
    if (!value) return "—";
    return new Intl.DateTimeFormat(i18n.lang, { dateStyle: "medium", timeStyle: "short" }).format(
      new Date(value)
    );
  },
  time(value) {
    if (!value) return "—";
    return new Intl.DateTimeFormat(i18n.lang, { timeStyle: "short" }).format(new Date(value));
  },
};
