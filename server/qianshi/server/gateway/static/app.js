// Qianshi web page: ask, then watch an interpretation stream in over Server-Sent Events.
//
// The stream is an EventSource on /v1/interpret. When its connection breaks, the browser
// reconnects to the same URL by itself, sending Last-Event-ID (<task_id>:<seq>), and the gateway
// resumes the task from the next event: nothing is lost or repeated. The page closes the stream
// after the terminal event (result or error) so that the browser does not reconnect again.
//
// Everything the page shows is what the server said: the bar moves only to the percent of the
// latest event (CSS eases the move), the elapsed time and the ETA count on the local clock from
// the latest event's figures. window.qianshi holds measurements the browser tests read.
"use strict";

(() => {
  const KINDS = ["accepted", "tick", "stage_started", "stage_completed", "poem", "passages",
    "text_delta", "result", "error"];
  const CODES = ["OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
    "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
    "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"];

  const I18N = {
    "zh-Hant": {
      title: "籤詩解讀", subtitle: "誠心求籤，細聽籤意", askTitle: "求籤", set: "籤譜",
      category: "所問何事", autoCategory: "依問題判斷", number: "籤號", numberPrefix: "第",
      numberSuffix: "籤", draw: "搖籤", question: "心中所問",
      questionHint: "例如：今年換工作會順利嗎？（不填：看整支籤的大意）", ask: "請示解籤", askAgain: "再求一籤",
      elapsed: "已過", eta: "約需", cancel: "取消", interpretation: "籤意", sources: "典據",
      reconnecting: "連線中斷，重新連線中…", footer: "籤詩僅供參考，凡事仍須自己斟酌。",
      cited: "已引用", seconds: (s) => `${s} 秒`, almost: "即將完成", poemNo: (n) => `第${n}籤`,
      stages: { STAGE_ACCEPTED: "已受理", STAGE_RETRIEVAL: "尋籤查典", STAGE_GENERATION: "解籤中",
        STAGE_DONE: "完成" },
      kinds: { PASSAGE_KIND_VERSE: "籤詩", PASSAGE_KIND_TITLE: "典故", PASSAGE_KIND_JUDGMENT: "解曰" },
      resultMeta: (gen, secs) => `由${gen}解讀，共 ${secs} 秒`,
      generators: { grounded: "典籍對照" },
      fallback: "（模型未能作答，改依典籍解讀）",
      errors: {
        INVALID_ARGUMENT: "所填資料有誤", NOT_FOUND: "查無此籤", UNAUTHENTICATED: "需要通行憑證",
        PERMISSION_DENIED: "沒有權限", RESOURCE_EXHAUSTED: "求籤的人太多了，請稍候再試",
        UNAVAILABLE: "服務暫時無法使用，請稍後再試", DEADLINE_EXCEEDED: "等候逾時，請再試一次",
        CANCELLED: "已取消", NETWORK: "無法連線到服務", OTHER: "發生錯誤",
        TASK_NOT_FOUND: "這次解籤已過時效，請重新求籤",
      },
      fields: { question: "問題", number: "籤號", set_id: "籤譜", category: "所問何事", locale: "語言" },
      retryIn: (s) => `請於 ${s} 秒後再試`,
    },
    en: {
      title: "Temple Oracle", subtitle: "Draw a fortune poem, and hear what it says to you",
      askTitle: "Ask the oracle", set: "Poem set", category: "About", autoCategory: "From my question",
      number: "Poem", numberPrefix: "No.", numberSuffix: "", draw: "Draw",
      question: "Your question", questionHint: "e.g. Will my new job go well this year? (empty: the slip's general reading)",
      ask: "Interpret", askAgain: "Ask again", elapsed: "Elapsed", eta: "Remaining",
      cancel: "Cancel", interpretation: "Interpretation", sources: "Sources",
      reconnecting: "Connection lost — reconnecting…",
      footer: "A fortune poem is a reflection, not a verdict: the choice is always yours.",
      cited: "cited", seconds: (s) => `${s} s`, almost: "almost done", poemNo: (n) => `No. ${n}`,
      stages: { STAGE_ACCEPTED: "Accepted", STAGE_RETRIEVAL: "Finding the poem and its sources",
        STAGE_GENERATION: "Interpreting", STAGE_DONE: "Done" },
      kinds: { PASSAGE_KIND_VERSE: "verse", PASSAGE_KIND_TITLE: "allusion", PASSAGE_KIND_JUDGMENT: "judgment" },
      resultMeta: (gen, secs) => `Interpreted by ${gen} in ${secs} s`,
      generators: { grounded: "the traditional texts" },
      fallback: " (the model could not answer; interpreted from the traditional texts)",
      errors: {
        INVALID_ARGUMENT: "Please check what you entered", NOT_FOUND: "No such poem",
        UNAUTHENTICATED: "A valid token is needed", PERMISSION_DENIED: "Not allowed",
        RESOURCE_EXHAUSTED: "The temple is busy — please try again shortly",
        UNAVAILABLE: "The service is unavailable — please try again shortly",
        DEADLINE_EXCEEDED: "That took too long — please try again", CANCELLED: "Cancelled",
        NETWORK: "Cannot reach the service", OTHER: "Something went wrong",
        TASK_NOT_FOUND: "This reading has expired — please ask again",
      },
      fields: { question: "question", number: "poem number", set_id: "poem set", category: "category",
        locale: "language" },
      retryIn: (s) => `try again in ${s} s`,
    },
  };

  // zh-Hans: the zh-Hant catalogue with its characters mapped by hans.js (OpenCC tw2s, generated).
  const HANS = window.QIANSHI_HANS || {};
  const toHans = (text) => text.replace(/[\u3400-\u9fff]/g, (c) => HANS[c] || c);
  const simplified = (value) =>
    typeof value === "string" ? toHans(value)
      : typeof value === "function" ? (...args) => toHans(value(...args))
        : Object.fromEntries(Object.entries(value).map(([k, v]) => [k, simplified(v)]));
  I18N["zh-Hans"] = simplified(I18N["zh-Hant"]);
  const LANGS = ["zh-Hant", "zh-Hans", "en"];

  const $ = (id) => document.getElementById(id);
  const pageParams = new URLSearchParams(location.search);
  const token = pageParams.get("token");

  // Measurements for the browser tests (and the curious): all times are performance.now() ms.
  const metrics = (window.qianshi = {
    clickAt: null, firstProgressAt: null, clickToFirstProgressMs: null,
    intervals: [], events: [], reconnects: 0, states: [], terminal: null, taskId: null,
  });

  const browserLang = navigator.language || "";
  let lang = LANGS.includes(pageParams.get("lang")) ? pageParams.get("lang")
    : /^zh-(cn|sg|hans)/i.test(browserLang) ? "zh-Hans" : /^zh/i.test(browserLang) ? "zh-Hant" : "en";
  const zhName = (name) => (lang === "zh-Hans" ? toHans(name) : name);
  let sets = [];
  let run = null; // the interpretation being watched

  const t = (key) => I18N[lang][key];

  function setState(state) {
    document.body.dataset.state = state;
    metrics.states.push(state);
  }

  function withToken(url) {
    if (!token) return url;
    return url + (url.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(token);
  }

  function newRequestId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes); // randomUUID needs a secure context; this does not
    return "web-" + Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function seconds(durationJson) {
    // protobuf JSON durations are strings such as "1.200s"
    return durationJson ? parseFloat(durationJson) : null;
  }

  function fmt(s) {
    return t("seconds")((Math.max(0, s)).toFixed(1));
  }

  // --- language --------------------------------------------------------------------------------

  function applyLanguage() {
    document.documentElement.lang = lang;
    document.title = lang === "en" ? "Temple Oracle · Qianshi" : zhName("籤詩解讀 · Qianshi");
    document.querySelectorAll("[data-i18n]").forEach((el) => {
      const value = t(el.dataset.i18n);
      if (typeof value === "string") el.textContent = value;
    });
    document.querySelectorAll(".lang-btn").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.lang === lang)));
    $("question").placeholder = t("questionHint");
    if ($("ask").classList.contains("collapsed")) $("submit").textContent = t("askAgain");
    fillSets();
    if (run) renderStatus();
  }

  // --- sets ------------------------------------------------------------------------------------

  async function loadSets() {
    try {
      const response = await fetch(withToken("/v1/sets"), { credentials: "same-origin" });
      const body = await response.json();
      if (!response.ok) throw body;
      sets = body.sets || [];
      fillSets();
    } catch (problem) {
      showError(problem && problem.error ? problem.error : { status: "NETWORK" });
      $("watch").hidden = false;
    }
  }

  function fillSets() {
    const select = $("set");
    const chosen = select.value;
    select.replaceChildren(...sets.map((s) => new Option(lang === "en" ? `${s.nameEn} · ${s.nameZh}` : zhName(s.nameZh), s.id)));
    if (chosen) select.value = chosen;
    fillCategories();
  }

  function currentSet() {
    return sets.find((s) => s.id === $("set").value) || sets[0];
  }

  function fillCategories() {
    const select = $("category");
    const chosen = select.value;
    const set = currentSet();
    const options = [new Option(t("autoCategory"), "")];
    for (const c of (set && set.categories) || []) options.push(new Option(c, c));
    select.replaceChildren(...options);
    select.value = chosen && [...select.options].some((o) => o.value === chosen) ? chosen : "";
    const number = $("number");
    if (set) number.max = String(set.count);
  }

  function draw() {
    const set = currentSet();
    if (!set) return;
    const button = $("draw");
    button.classList.remove("shaking");
    void button.offsetWidth; // restart the animation
    button.classList.add("shaking");
    $("number").value = String(1 + Math.floor(Math.random() * set.count));
  }

  // --- asking and watching ---------------------------------------------------------------------

  function ask(event) {
    event.preventDefault();
    const form = $("ask");
    if (form.classList.contains("collapsed")) {
      if (run && !run.ended) return;
      form.classList.remove("collapsed"); // "ask again": show the form, keep what was typed
      $("submit").textContent = t("ask");
      $("question").focus();
      return;
    }
    const question = $("question").value.trim(); // empty: the slip's general reading
    if (run && !run.ended) return;
    metrics.clickAt = performance.now();
    metrics.firstProgressAt = metrics.clickToFirstProgressMs = null;
    metrics.intervals = [];
    metrics.events = [];
    metrics.reconnects = 0;
    metrics.terminal = null;
    metrics.taskId = null;
    const params = new URLSearchParams({
      set: $("set").value, number: $("number").value, question, locale: lang, request_id: newRequestId(),
    });
    if ($("category").value) params.set("category", $("category").value);
    run = {
      url: withToken("/v1/interpret?" + params), source: null, taskId: null, lastSeq: 0,
      lastAt: null, percent: 0, stage: "STAGE_ACCEPTED", message: "", elapsed: 0, eta: null,
      receivedAt: performance.now(), text: "", passages: [], ended: false, cited: [],
    };
    resetView();
    const set = currentSet();
    $("summary-set").textContent = `${set ? (lang === "en" ? set.nameEn : zhName(set.nameZh)) : ""} · ${t("poemNo")($("number").value)}`;
    $("summary-question").textContent = question;
    form.classList.add("collapsed");
    $("submit").textContent = t("askAgain");
    $("submit").disabled = true;
    setState("live");
    open(run.url);
    tick();
  }

  function resetView() {
    $("watch").hidden = false;
    delete $("watch").dataset.taskId;
    for (const id of ["poem", "reading", "sources", "error", "reconnecting"]) $(id).hidden = true;
    $("result-meta").hidden = true;
    $("text").replaceChildren();
    $("text").classList.add("streaming");
    $("passages").replaceChildren();
    $("cancel").hidden = false;
    $("cancel").disabled = false;
    renderStatus();
    $("watch").scrollIntoView({ behavior: "smooth", block: "start" });
  }

  function open(url) {
    const source = new EventSource(url, { withCredentials: false });
    run.source = source;
    for (const kind of KINDS) {
      source.addEventListener(kind, (e) => {
        // "error" is also what EventSource fires for a broken connection (a plain Event)
        if (e instanceof MessageEvent) onFrame(kind, e);
        else onConnectionError(source);
      });
    }
    source.onopen = () => {
      if (document.body.dataset.state === "reconnecting") {
        $("reconnecting").hidden = true;
        setState("live");
      }
    };
  }

  function onConnectionError(source) {
    if (!run || run.ended || source !== run.source) return;
    if (source.readyState === EventSource.CONNECTING) {
      metrics.reconnects += 1;
      $("reconnecting").hidden = false;
      setState("reconnecting");
      return;
    }
    diagnose(source); // the browser gave up: find out why
  }

  async function diagnose(source) {
    source.close();
    const url = run.taskId
      ? withToken(`/v1/tasks/${encodeURIComponent(run.taskId)}/events?after=${run.lastSeq}`)
      : run.url;
    const abort = new AbortController();
    try {
      const response = await fetch(url, { signal: abort.signal, credentials: "same-origin" });
      if (response.status === 200) {
        abort.abort(); // it works again: let EventSource take over
        open(url);
        return;
      }
      if (response.status === 204) {
        finish(null);
        return;
      }
      const body = await response.json().catch(() => ({}));
      fail(body.error || { status: "OTHER" });
    } catch (_) {
      fail({ status: "NETWORK" });
    }
  }

  function onFrame(kind, e) {
    const now = performance.now();
    let event;
    try {
      event = JSON.parse(e.data);
    } catch (_) {
      return;
    }
    const seq = event.seq !== undefined ? Number(event.seq) : null;
    if (run.lastAt !== null) metrics.intervals.push(now - run.lastAt);
    run.lastAt = now;
    metrics.events.push({ seq, kind, t: now });
    if (seq !== null && run.taskId === event.taskId && seq <= run.lastSeq) return; // never twice
    if (event.taskId && run.taskId && event.taskId !== run.taskId) restarted(); // its server was lost
    if (event.taskId && !run.taskId) $("watch").dataset.taskId = event.taskId;
    if (event.taskId) run.taskId = metrics.taskId = event.taskId;
    if (seq !== null) run.lastSeq = seq;
    if (event.percent !== undefined || seq !== null) run.percent = Math.max(run.percent, event.percent || 0);
    if (event.stage) run.stage = event.stage;
    if (event.message) run.message = event.message;
    run.elapsed = seconds(event.elapsed) ?? run.elapsed;
    run.eta = seconds(event.eta);
    run.receivedAt = now;
    if (event.poem) showPoem(event.poem);
    if (event.passages) showPassages(event.passages.passages || []);
    if (event.textDelta) appendText(event.textDelta.text || "");
    renderStatus();
    if (metrics.firstProgressAt === null) {
      requestAnimationFrame(() => {
        metrics.firstProgressAt = performance.now();
        metrics.clickToFirstProgressMs = metrics.firstProgressAt - metrics.clickAt;
      });
    }
    if (event.result) finish(event.result);
    else if (kind === "error") fail(statusOf(event.error), event.error && event.error.partialText);
  }

  function statusOf(error) {
    const status = (error && error.status) || {};
    return { status: CODES[status.code || 2] || "UNKNOWN", message: status.message || "" };
  }

  function renderStatus() {
    const percent = Math.min(100, Math.max(0, run ? run.percent : 0));
    $("fill").style.width = percent.toFixed(1) + "%";
    $("bar").setAttribute("aria-valuenow", String(Math.round(percent)));
    $("percent").textContent = Math.floor(percent) + "%";
    $("stage").textContent = run ? t("stages")[run.stage] || "—" : "—";
    $("message").textContent = run ? run.message : "";
    $("fill").classList.toggle("done", percent >= 100);
  }

  // Elapsed time and ETA follow the local clock between events; the bar does not.
  function tick() {
    if (!run) return;
    const since = (performance.now() - run.receivedAt) / 1000;
    const live = !run.ended;
    $("elapsed").textContent = fmt(run.elapsed + (live ? since : 0));
    if (!live) $("eta").textContent = "—";
    else if (run.eta === null) $("eta").textContent = "…";
    else {
      const left = run.eta - since;
      $("eta").textContent = left > 0.05 ? fmt(left) : t("almost");
    }
    if (live) requestAnimationFrame(tick);
  }

  function showPoem(poem) {
    $("poem").hidden = false;
    $("poem-set").textContent = poem.setName || "";
    // the slip itself is always Chinese: 第 <number written upright> 籤
    const digits = document.createElement("span");
    digits.className = "digits";
    digits.textContent = String(poem.number);
    $("poem-number").replaceChildren("第", digits, "籤");
    $("poem-no").textContent = lang === "en" ? t("poemNo")(poem.number) : "";
    const rank = $("poem-rank");
    rank.hidden = !poem.rank;
    rank.textContent = poem.rank || "";
    $("poem-title").textContent = poem.title || "";
    $("verse").replaceChildren(...(poem.verseLines || []).map((line) => {
      const p = document.createElement("p");
      p.textContent = line;
      return p;
    }));
  }

  function showPassages(passages) {
    run.passages = passages;
    $("sources").hidden = false;
    $("passages").replaceChildren(...passages.map((p) => {
      const li = document.createElement("li");
      li.id = "passage-" + p.citation;
      li.dataset.passageId = p.id;
      const head = document.createElement("div");
      head.className = "passage-head";
      const num = document.createElement("span");
      num.className = "cite-num";
      num.textContent = p.citation;
      const kind = document.createElement("span");
      kind.className = "passage-kind";
      kind.textContent = [p.category, t("kinds")[p.kind]].filter(Boolean).join(" · ");
      const tag = document.createElement("span");
      tag.className = "cited-tag";
      tag.textContent = t("cited");
      head.append(num, kind, tag);
      const text = document.createElement("p");
      text.className = "passage-text";
      text.textContent = p.text;
      li.append(head, text);
      return li;
    }));
  }

  // The gateway sent the request again after its task was lost (REPLICA_LOST …): a new task with a
  // new id starts over from seq 1, so the text and the progress start over too.
  function restarted() {
    run.text = "";
    run.percent = 0;
    run.lastSeq = 0;
    renderText($("text"), run.text);
  }

  function appendText(piece) {
    run.text += piece;
    $("reading").hidden = false;
    renderText($("text"), run.text);
  }

  // Citations such as [2] become small seals that point at their source.
  function renderText(el, text) {
    const nodes = [];
    const paragraphs = text.split(/\n{2,}/);
    for (const para of paragraphs) {
      const p = document.createElement("p");
      for (const part of para.split(/(\[\d+\])/)) {
        const m = /^\[(\d+)\]$/.exec(part);
        if (m) {
          const a = document.createElement("a");
          a.className = "cite";
          a.href = "#passage-" + m[1];
          a.textContent = m[1];
          p.append(a);
        } else if (part) {
          p.append(document.createTextNode(part));
        }
      }
      nodes.push(p);
    }
    el.replaceChildren(...nodes);
  }

  function finish(result) {
    metrics.terminal = "result";
    end("done");
    if (!result) return;
    if (result.text && result.text !== run.text) {
      run.text = result.text;
      renderText($("text"), run.text);
      $("reading").hidden = false;
    }
    const cited = new Set(result.citedPassageIds || []);
    document.querySelectorAll("#passages li").forEach((li) => li.classList.toggle("cited", cited.has(li.dataset.passageId)));
    const total = (result.timings || []).reduce((sum, x) => sum + (seconds(x.duration) || 0), 0);
    const meta = $("result-meta");
    const writer = result.model || t("generators")[result.generator] || result.generator || "?";
    meta.textContent = t("resultMeta")(writer, total.toFixed(1)) +
      (result.fallbackUsed ? t("fallback") : "");
    meta.hidden = false;
  }

  function fail(error, partialText) {
    metrics.terminal = "error";
    if (partialText && !run.text) appendText(partialText);
    end(error.status === "CANCELLED" ? "cancelled" : "error");
    showError(error);
  }

  function end(state) {
    run.ended = true;
    if (run.source) run.source.close(); // or the browser would reconnect after the last event
    $("reconnecting").hidden = true;
    $("cancel").hidden = true;
    $("text").classList.remove("streaming");
    $("submit").disabled = false;
    $("submit").textContent = t("askAgain");
    setState(state);
    renderStatus();
  }

  function showError(error) {
    const messages = t("errors");
    const box = $("error");
    box.hidden = false;
    box.classList.toggle("soft", error.status === "CANCELLED");
    $("error-title").textContent = messages[error.reason] || messages[error.status] || messages.OTHER;
    const details = [];
    for (const v of error.fieldViolations || []) details.push(`${t("fields")[v.field] || v.field}: ${v.description}`);
    if (error.retryAfter) details.push(t("retryIn")(Math.ceil(error.retryAfter)));
    if (!details.length && error.message && error.status !== "CANCELLED") details.push(error.message);
    $("error-detail").textContent = details.join(" · ");
  }

  async function cancel() {
    if (!run || run.ended || !run.taskId) return;
    $("cancel").disabled = true;
    try {
      await fetch(withToken(`/v1/tasks/${encodeURIComponent(run.taskId)}/cancel`), {
        method: "POST", credentials: "same-origin",
      });
    } catch (_) {
      $("cancel").disabled = false;
    }
    // the stream's terminal error event (CANCELLED) ends the run
  }

  // --- start -----------------------------------------------------------------------------------

  document.querySelectorAll(".lang-btn").forEach((b) => b.addEventListener("click", () => {
    lang = b.dataset.lang;
    applyLanguage();
  }));
  $("set").addEventListener("change", fillCategories);
  $("draw").addEventListener("click", draw);
  $("draw").addEventListener("animationend", () => $("draw").classList.remove("shaking"));
  $("ask").addEventListener("submit", ask);
  $("cancel").addEventListener("click", cancel);
  applyLanguage();
  loadSets();
})();
