// Checks a few WCAG 2.2 AA rules in the page as rendered, for
// browser_test.go. Returns what failed (empty lists pass) and what it saw.
(() => {
  const out = { charts: [], unnamed: [], unlabelled: [], headings: [], headingErrors: [], lowContrast: [], lowMarkContrast: [], checked: 0 };

  // Every image and chart has an accessible name.
  const nameOf = (el) => {
    const label = (el.getAttribute("aria-label") || "").trim();
    if (label) return label;
    const by = (el.getAttribute("aria-labelledby") || "").split(/\s+/).filter(Boolean)
      .map((id) => (document.getElementById(id) || {}).textContent || "").join(" ").trim();
    if (by) return by;
    if (el.tagName.toLowerCase() === "img") return (el.getAttribute("alt") || "").trim();
    return "";
  };
  for (const el of document.querySelectorAll("img, svg, [role=img]")) {
    if (el.closest("[aria-hidden=true]") || el.closest("defs")) continue;
    if (el.tagName.toLowerCase() === "svg" && el.getAttribute("role") !== "img") { out.unnamed.push("svg without role=img"); continue; }
    const name = nameOf(el);
    if (!name) out.unnamed.push(el.outerHTML.slice(0, 80));
    if (el.tagName.toLowerCase() === "svg") {
      const r = el.getBoundingClientRect();
      out.charts.push({ name, marks: el.querySelectorAll("rect, path, line").length, width: r.width, height: r.height,
        title: (el.querySelector("title") || {}).textContent || "", table: !!el.parentElement.querySelector("details table") });
    }
  }

  // Every form control has a label.
  for (const el of document.querySelectorAll("input, select, textarea, button")) {
    if (el.type === "hidden") continue;
    const labels = [...(el.labels || [])].map((l) => l.textContent.trim()).join(" ");
    const text = el.tagName.toLowerCase() === "button" ? el.textContent.trim() : "";
    if (!labels && !(el.getAttribute("aria-label") || "").trim() && !text) out.unlabelled.push(el.id || el.name || el.outerHTML.slice(0, 60));
  }

  // Headings: one h1, first, and no level skipped going down.
  const hs = [...document.querySelectorAll("h1, h2, h3, h4, h5, h6")].map((h) => Number(h.tagName[1]));
  out.headings = hs;
  if (hs[0] !== 1) out.headingErrors.push("the first heading is not h1");
  if (hs.filter((l) => l === 1).length !== 1) out.headingErrors.push("not exactly one h1");
  hs.forEach((l, i) => { if (i > 0 && l > hs[i - 1] + 1) out.headingErrors.push(`h${hs[i - 1]} then h${l}`); });

  // Contrast (WCAG relative luminance): text >= 4.5, chart marks >= 3.
  const parse = (c) => {
    const m = /rgba?\(([^)]+)\)/.exec(c || "");
    if (!m) return null;
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const ratio = (a, b) => { const x = lum(a), y = lum(b); return (Math.max(x, y) + 0.05) / (Math.min(x, y) + 0.05); };
  const background = (el) => {
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  const textSel = ["body", "h1", "h2", "h3", "p", "a", "label", "legend", "caption", "th", "td", "summary", "button", "select", "input",
    ".lede", ".hint", ".empty", ".mention .meta", ".mention .stats", ".site-header .brand", ".site-footer p"];
  for (const sel of textSel) {
    for (const el of [...document.querySelectorAll(sel)].slice(0, 8)) {
      const fg = parse(getComputedStyle(el).color);
      const r = ratio(fg, background(el));
      out.checked++;
      if (r < 4.5) out.lowContrast.push(`${sel}: ${r.toFixed(2)}`);
    }
  }
  for (const el of document.querySelectorAll("svg text")) {
    const r = ratio(parse(getComputedStyle(el).fill), background(el.closest("svg")));
    out.checked++;
    if (r < 4.5) out.lowContrast.push(`svg text.${el.getAttribute("class")}: ${r.toFixed(2)}`);
  }
  for (const el of document.querySelectorAll("svg rect, svg path")) {
    if (el.closest("pattern")) continue;
    let fill = getComputedStyle(el).fill, cls = el.getAttribute("class");
    const m = /url\("?#([^")]+)"?\)/.exec(fill);
    if (m) { const base = document.getElementById(m[1]).querySelector("rect"); fill = getComputedStyle(base).fill; cls += " " + m[1]; }
    if (el.tagName.toLowerCase() === "path") { fill = getComputedStyle(el).stroke; }
    const c = parse(fill);
    if (!c || cls.includes("halo")) continue;
    const r = ratio(c, background(el.closest("svg")));
    out.checked++;
    if (r < 3) out.lowMarkContrast.push(`${cls}: ${r.toFixed(2)}`);
  }
  return out;
})()
