/* lifeline dashboard: catalogues (i18n/*.json), labels for codes and ids, local times.
 * Every text the dashboard shows goes through LL.t(key, params); a key missing from the
 * catalogue shows its raw code and is recorded in LL.i18n.missing (the browser tests assert
 * it stays empty). */
(function () {
  "use strict";
  const LL = (window.LL = window.LL || {});
  const I = (LL.i18n = {
    lang: localStorage.getItem("lifeline.lang") || "zh-CN",
    dict: {},
    missing: new Set(),
    tz: "UTC",          // the city's IANA time zone (GET /api/networks)
    districts: {},      // district_id -> {name, name_zh}
  });

  LL.esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));

  /** The catalogue text of `key` with `{name}` placeholders filled from `params`. */
  LL.t = function (key, params) {
    let s = I.dict[key];
    if (s == null) {
      I.missing.add(key);
      const dot = key.indexOf(".");
      s = dot >= 0 ? key.slice(dot + 1) : key;
    }
    if (params) s = s.replace(/\{(\w+)\}/g, (m, k) => (params[k] == null ? m : String(params[k])));
    return s;
  };
  /** The current language's text of a bilingual object {"zh-CN": …, "en": …}. */
  LL.tx = (o) => (o && typeof o === "object" ? o[I.lang] || o.en || o["zh-CN"] || "" : o || "");

  LL.loadCatalogue = async function (lang) {
    I.lang = lang;
    localStorage.setItem("lifeline.lang", lang);
    I.dict = await (await fetch("/static/i18n/" + lang + ".json")).json();
    document.documentElement.lang = lang;
    document.querySelectorAll("[data-i18n]").forEach((el) => { el.textContent = LL.t(el.dataset.i18n); });
    document.querySelectorAll("[data-i18n-ph]").forEach((el) => { el.placeholder = LL.t(el.dataset.i18nPh); });
    document.querySelectorAll("[data-i18n-title]").forEach((el) => { el.title = LL.t(el.dataset.i18nTitle); });
  };

  // ---------- labels of codes ----------
  LL.kindLabel = (k) => (k ? LL.t("kind." + k) : LL.t("kind_unknown"));
  LL.utilLabel = (u) => (u ? LL.t(u) : "");
  LL.gradeLabel = (g) => (g ? LL.t("grade_n", { g }) : "–");
  LL.gradeName = (g) => (g ? LL.t("grade_name." + g) : "");
  LL.stateLabel = (s) => LL.t("st_" + s);
  LL.catLabel = (c) => LL.t("cat." + (c || "other"));
  LL.detLabel = (d) => LL.t("det." + (d || "external"));

  /** The name of an asset kind, the utility's own where it has one (a power manhole is a cable well). */
  const kindText = (utility, kind) => {
    const own = "asset." + utility + "." + kind;
    return I.dict[own] != null ? I.dict[own] : LL.t("asset." + kind);
  };
  /** "water:valve:WV30" → "阀门 WV30"; anything else is an id and shown as it is. */
  LL.assetLabel = function (id) {
    const p = String(id || "").split(":");
    if (p.length < 3) return String(id || "");
    return kindText(p[0], p[1]) + " " + p.slice(2).join(":");
  };
  /** An operation's label {kind, ref} (added by the API) → "联络开关 5". */
  LL.opLabel = function (op) {
    if (!op || !op.label) return LL.assetLabel(op && op.asset_id);
    return kindText(String(op.asset_id || "").split(":")[0], op.label.kind) + " " + op.label.ref;
  };
  /** "water-crew-2" → "供水抢修队 2"; other crew ids as they are. */
  LL.crewLabel = function (id) {
    const m = /^([a-z]+)-crew-(\d+)$/.exec(String(id || ""));
    return m ? LL.t("crew_of", { u: LL.t(m[1]), n: m[2] }) : String(id || LL.t("crew"));
  };
  LL.districtName = function (id) {
    if (!id) return "";
    const d = I.districts[id];
    if (!d) return String(id);
    return (I.lang === "zh-CN" ? d.name_zh || d.name : d.name || d.name_zh) || String(id);
  };
  /** A customer's name without the English category note some names carry
   * ("Grundschule Schutterwald (school)"), followed by the category from the catalogue. */
  LL.custName = function (c) {
    if (!c) return "";
    const cat = c.category || "";
    let name = String(c.name || c.customer_id || "");
    const m = /\s*\(([^()]*)\)\s*$/.exec(name);
    if (m && cat && m[1].toLowerCase().includes(cat.replace(/_/g, " "))) name = name.slice(0, m.index);
    return cat && cat !== "household" ? name + LL.t("paren", { x: LL.catLabel(cat) }) : name;
  };

  // ---------- time in the city's zone ----------
  const fmtCache = {};
  function parts(iso) {
    const d = new Date(iso);
    if (isNaN(d)) return null;
    const key = I.tz;
    fmtCache[key] = fmtCache[key] || new Intl.DateTimeFormat("en-GB", {
      timeZone: I.tz, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23",
    });
    const o = {};
    fmtCache[key].formatToParts(d).forEach((p) => { o[p.type] = p.value; });
    return { d, o };
  }
  /** Offset of the city's zone from UTC at `iso`, e.g. "UTC+2" or "UTC+5:30". */
  LL.zoneOffset = function (iso) {
    const r = parts(iso || new Date().toISOString());
    if (!r) return "";
    const { d, o } = r;
    const local = Date.UTC(+o.year, +o.month - 1, +o.day, +o.hour, +o.minute, +o.second);
    const min = Math.round((local - Math.floor(d.getTime() / 1000) * 1000) / 60000);
    const sign = min < 0 ? "-" : "+", a = Math.abs(min);
    return "UTC" + sign + Math.floor(a / 60) + (a % 60 ? ":" + String(a % 60).padStart(2, "0") : "");
  };
  /** "07-15 11:37" in the city's local time. */
  LL.fmtTime = function (iso) {
    if (!iso) return "";
    const r = parts(iso);
    return r ? `${r.o.month}-${r.o.day} ${r.o.hour}:${r.o.minute}` : "";
  };
  /** "07-15 11:37 (UTC+2)". */
  LL.fmtTimeZ = (iso) => (iso ? `${LL.fmtTime(iso)} (${LL.zoneOffset(iso)})` : "");
  /** "2026-07-15" in the city's local time. */
  LL.fmtDate = function (iso) {
    const r = iso && parts(iso);
    return r ? `${r.o.year}-${r.o.month}-${r.o.day}` : "";
  };
})();
