// Search page: plain JavaScript against the public API (API.md); no build step.
"use strict";

const FACET_LABELS = { province: "省份", city: "城市", doc_type: "文种", year: "年份", issuer: "发文机关", topic: "主题" };
const FILTERABLE = ["province", "city", "doc_type", "issuer", "topic"];
const state = { q: "", sort: "relevance", page: 1, size: 10, include_duplicates: false, filters: {}, year: null };
let ingestUrl = "";

const $ = (sel) => document.querySelector(sel);
const RELATIONS = { near_duplicate: "近似副本", contains: "包含该文", contained_in: "为其片段" };
// Elasticsearch highlights the character field: a match arrives as adjacent <em> characters.
const joinEm = (html) => String(html).replaceAll("</em><em>", "");
const escapeHtml = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);

async function getJSON(url) {
  const r = await fetch(url);
  const body = await r.json();
  if (!r.ok) throw new Error(body.detail || r.statusText);
  return body;
}

function searchParams() {
  const p = new URLSearchParams();
  if (state.q) p.set("q", state.q);
  p.set("sort", state.sort);
  p.set("page", state.page);
  p.set("size", state.size);
  if (state.include_duplicates) p.set("include_duplicates", "true");
  for (const [field, values] of Object.entries(state.filters)) for (const v of values) p.append(field, v);
  if (state.year) { p.set("date_from", `${state.year}-01-01`); p.set("date_to", `${state.year}-12-31`); }
  return p;
}

// Only the latest search may render: an earlier answer that arrives late (the opening
// listing, a previous keystroke's query) must not overwrite the newer one.
let searchSeq = 0;

async function runSearch(pushHistory = true) {
  const seq = ++searchSeq;
  const params = searchParams();
  if (pushHistory) history.pushState(null, "", "?" + params.toString());
  $("#document").hidden = true;
  $("#results").hidden = false;
  try {
    const body = await getJSON("/v1/search?" + params.toString());
    if (seq !== searchSeq) return;
    renderResults(body);
    renderFacets(body.facets);
  } catch (err) {
    if (seq !== searchSeq) return;
    $("#results").innerHTML = `<p class="error">检索失败:${escapeHtml(err.message)}</p>`;
  }
}

function renderResults(body) {
  const hits = body.hits.map((h) => {
    const title = h.highlights.title?.[0] ? joinEm(h.highlights.title[0]) : escapeHtml(h.title || "(无标题)");
    const meta = [h.doc_number, (h.issuers || []).join("、"), h.date, [h.province, h.city].filter(Boolean).join(" "), h.doc_type]
      .filter(Boolean).map((m) => `<span>${escapeHtml(m)}</span>`).join("");
    const dups = h.duplicates_count ? `<span class="badge">${h.duplicates_count} 个副本</span>` : "";
    const fragments = (h.highlights.text || []).map((f) => `<p class="fragment">${joinEm(f)}</p>`).join("");
    return `<article class="hit" data-id="${escapeHtml(h.id)}"><h2><a data-open="${escapeHtml(h.id)}">${title}</a>${dups}</h2>
      <div class="meta">${meta}</div>${fragments}</article>`;
  }).join("");
  const pages = Math.max(1, Math.ceil(body.total / body.size));
  $("#results").innerHTML = `<p class="summary" id="summary">找到 ${body.total} 份文件(${body.took_ms} ms)` +
    (body.query.tokens.length ? `,检索词:${body.query.tokens.map(escapeHtml).join(" / ")}` : "") + `</p>` +
    (hits || `<p class="empty">没有找到匹配的文件。</p>`) +
    `<nav class="pager"><button id="prev" ${state.page <= 1 ? "disabled" : ""}>上一页</button>
     <span>第 ${state.page} / ${pages} 页</span><button id="next" ${state.page >= pages ? "disabled" : ""}>下一页</button></nav>`;
  $("#prev").onclick = () => { state.page -= 1; runSearch(); };
  $("#next").onclick = () => { state.page += 1; runSearch(); };
}

// Facets are multi-select: the API counts each facet without its own filter, so a chosen
// province still lists the others (with their counts under the rest) and ticking a second
// one widens the search (values of one field are ORed). Years map to date_from/date_to,
// so one year at a time. Chosen values are always shown, so they can be unticked.
function selectedValues(field) {
  return field === "year" ? (state.year ? [state.year] : []) : (state.filters[field] || []);
}

function renderFacets(facets) {
  const html = Object.entries(FACET_LABELS).map(([field, label]) => {
    const values = facets[field] || [];
    const selected = selectedValues(field);
    const shown = values.slice(0, 12);
    for (const value of selected) {
      if (!shown.some((v) => v.value === value)) shown.push(values.find((v) => v.value === value) || { value, count: 0 });
    }
    if (!shown.length) return "";
    const items = shown.map((v) => {
      const checked = selected.includes(v.value);
      return `<label><input type="checkbox" data-field="${field}" value="${escapeHtml(v.value)}" ${checked ? "checked" : ""}>
        ${escapeHtml(v.value)} <span class="count">${v.count}</span></label>`;
    }).join("");
    return `<section class="facet" data-facet="${field}"><h3>${label}</h3>${items}</section>`;
  }).join("");
  $("#facets").innerHTML = html;
}

$("#facets").addEventListener("change", (ev) => {
  const box = ev.target;
  const field = box.dataset.field;
  if (field === "year") state.year = box.checked ? box.value : null;  // replaces another year
  else if (FILTERABLE.includes(field)) {
    const set = new Set(state.filters[field] || []);
    box.checked ? set.add(box.value) : set.delete(box.value);
    state.filters[field] = [...set];
  }
  state.page = 1;
  runSearch();
});

$("#search-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  hideSuggestions();
  state.q = $("#q").value.trim();
  state.sort = $("#sort").value;
  state.include_duplicates = $("#include-duplicates").checked;
  state.page = 1;
  runSearch();
});

// Type-ahead --------------------------------------------------------------------------
let suggestTimer = null;
let suggestGen = 0;  // answers to an older prefix (or after a search) are dropped
let active = -1;
function hideSuggestions() {
  clearTimeout(suggestTimer);
  suggestGen += 1;
  $("#suggestions").hidden = true;
  active = -1;
}
$("#q").addEventListener("input", () => {
  clearTimeout(suggestTimer);
  const prefix = $("#q").value.trim();
  if (!prefix) return hideSuggestions();
  const gen = ++suggestGen;
  suggestTimer = setTimeout(async () => {
    try {
      const body = await getJSON("/v1/suggest?size=8&q=" + encodeURIComponent(prefix));
      if (gen !== suggestGen || document.activeElement !== $("#q")) return;
      const list = $("#suggestions");
      list.innerHTML = body.suggestions.map((s, i) =>
        `<li role="option" data-index="${i}" data-text="${escapeHtml(s.text)}">${escapeHtml(s.text)}<span class="kind">${s.kind === "title" ? "标题" : "词条"}</span></li>`).join("");
      list.hidden = body.suggestions.length === 0;
    } catch { hideSuggestions(); }
  }, 150);
});
$("#q").addEventListener("keydown", (ev) => {
  const items = [...document.querySelectorAll("#suggestions li")];
  if ($("#suggestions").hidden || !items.length) return;
  if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
    ev.preventDefault();
    active = (active + (ev.key === "ArrowDown" ? 1 : items.length - 1)) % items.length;
    items.forEach((li, i) => li.setAttribute("aria-selected", i === active));
  } else if (ev.key === "Enter" && active >= 0) {
    $("#q").value = items[active].dataset.text;
  } else if (ev.key === "Escape") hideSuggestions();
});
$("#q").addEventListener("blur", () => setTimeout(hideSuggestions, 150));
$("#suggestions").addEventListener("mousedown", (ev) => {
  const li = ev.target.closest("li");
  if (!li) return;
  ev.preventDefault();
  $("#q").value = li.dataset.text;
  $("#search-form").requestSubmit();
});

// Document view ---------------------------------------------------------------------
$("#results").addEventListener("click", (ev) => {
  const id = ev.target.closest("[data-open]")?.dataset.open;
  if (id) openDocument(id);
});

function withEvidence(text, evidence) {
  const spans = Object.entries(evidence || {}).filter(([, e]) => e.source === "text" && e.end > e.start)
    .map(([field, e]) => ({ field, ...e })).sort((a, b) => a.start - b.start);
  let out = "", pos = 0;
  for (const s of spans) {
    if (s.start < pos) continue;
    out += escapeHtml(text.slice(pos, s.start)) + `<mark class="evidence" title="${escapeHtml(s.field)}">${escapeHtml(text.slice(s.start, s.end))}</mark>`;
    pos = s.end;
  }
  return out + escapeHtml(text.slice(pos));
}

async function openDocument(id) {
  const view = $("#document");
  try {
    const doc = await getJSON(`${ingestUrl}/v1/documents/${encodeURIComponent(id)}`);
    const m = doc.metadata || {};
    const row = (k, v) => (v && (!Array.isArray(v) || v.length) ? `<dt>${k}</dt><dd>${escapeHtml(Array.isArray(v) ? v.join("、") : v)}</dd>` : "");
    const related = (doc.near_duplicates || []).map((r) => `<li><a data-open="${escapeHtml(r.id)}" data-title-of="${escapeHtml(r.id)}">${escapeHtml(r.id)}</a>
      <span class="relation">${escapeHtml(RELATIONS[r.relation] || r.relation)} · 相似度 ${(r.similarity * 100).toFixed(0)}%</span></li>`).join("");
    view.innerHTML = `<button id="back">← 返回结果</button><h2>${escapeHtml(doc.title || m.title || "(无标题)")}</h2>
      <dl>${row("发文字号", m.doc_number)}${row("发文机关", m.issuers)}${row("成文日期", m.date)}
      ${row("地区", [m.province, m.city, m.county].filter(Boolean).join(" "))}${row("文种", m.doc_type)}${row("主题", m.topics)}
      ${row("状态", doc.status)}${row("原文链接", doc.source_url)}${row("重复于", doc.duplicate_of)}</dl>
      ${related ? `<h3>相关副本</h3><ul id="related">${related}</ul>` : ""}
      <h3>正文</h3><pre id="doc-text">${withEvidence(doc.text || "", m.evidence)}</pre>`;
    view.hidden = false;
    $("#results").hidden = true;
    $("#back").onclick = () => { view.hidden = true; $("#results").hidden = false; };
    view.querySelectorAll("[data-open]").forEach((a) => a.addEventListener("click", () => openDocument(a.dataset.open)));
    // Related copies are listed by id first, then by title once each is fetched.
    view.querySelectorAll("[data-title-of]").forEach(async (a) => {
      try {
        const other = await getJSON(`${ingestUrl}/v1/documents/${encodeURIComponent(a.dataset.titleOf)}`);
        const t = other.title || other.metadata?.title;
        if (t) a.textContent = t;
      } catch { /* keep the id */ }
    });
  } catch (err) {
    view.innerHTML = `<p class="error">无法打开文件:${escapeHtml(err.message)}</p>`;
    view.hidden = false;
  }
}

// Start ------------------------------------------------------------------------------
function loadState() {
  const p = new URLSearchParams(location.search);
  state.q = p.get("q") || "";
  state.sort = p.get("sort") || "relevance";
  state.page = Number(p.get("page") || 1);
  state.size = Math.min(100, Math.max(1, Number(p.get("size") || 10)));
  state.include_duplicates = p.get("include_duplicates") === "true";
  state.filters = {};
  for (const f of FILTERABLE) if (p.getAll(f).length) state.filters[f] = p.getAll(f);
  state.year = p.get("date_from")?.slice(0, 4) || null;
  $("#q").value = state.q;
  $("#sort").value = state.sort;
  $("#include-duplicates").checked = state.include_duplicates;
}
window.addEventListener("popstate", () => { loadState(); runSearch(false); });
(async () => {
  try { ingestUrl = (await getJSON("/ui/config.json")).ingest_url || ""; } catch { ingestUrl = ""; }
  loadState();
  runSearch(false);
})();
