/* The qlocks playground page: a channel, a message box, a "who am I" switch and the cluster panel.
 * State comes from GET /pg/state (long-poll); typed lines go to POST /pg/command; clicks to POST /pg/action.
 * All text reaches the DOM through textContent (see blockkit.js). */
"use strict";
(function () {
  const BK = window.QBlockKit;
  const $ = (id) => document.getElementById(id);
  const POLL_WAIT_S = 2;

  const view = {
    me: localStorage.getItem("qlocks-playground-me") || "",
    version: -1,
    data: null,
    filter: "",
    openPathEdited: false,
    poll: null, // AbortController of the running long-poll
    dirty: false,
    scrolledOnce: false,
    followUntil: 0, // after the user sends a command: keep the newest message in view until this time (ms)
  };
  const FOLLOW_MS = 15000;

  /* Make container's children exactly `nodes`, moving only what is out of place. */
  function patchChildren(container, nodes) {
    nodes.forEach((node, i) => {
      const at = container.children[i];
      if (at !== node) container.insertBefore(node, at || null);
    });
    while (container.children.length > nodes.length) container.lastElementChild.remove();
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  async function postJson(path, body) {
    const resp = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const data = await resp.json().catch(() => ({ ok: false, error: "HTTP " + resp.status }));
    if (!resp.ok && data.ok === undefined) data.ok = false;
    return data;
  }

  // ---- polling -------------------------------------------------------------------------------------------
  function refresh() {
    view.dirty = true; // the next poll must not wait
    if (view.poll) view.poll.abort(); // the loop restarts at once
  }

  async function pollLoop() {
    let wait = 0;
    for (;;) {
      const controller = new AbortController();
      view.poll = controller;
      if (view.dirty) wait = 0;
      view.dirty = false;
      const params = new URLSearchParams({ as: view.me, since: String(wait ? view.version : -1), wait: String(wait), filter: view.filter });
      try {
        const resp = await fetch("/pg/state?" + params, { signal: controller.signal });
        if (resp.status === 400 && view.me) view.me = ""; // a remembered user that no longer exists
        if (!resp.ok) throw new Error("HTTP " + resp.status);
        render(await resp.json());
        setConnection(true);
        wait = POLL_WAIT_S;
      } catch (err) {
        if (controller.signal.aborted) {
          wait = 0;
          continue;
        }
        setConnection(false);
        wait = 0;
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
  }

  function setConnection(ok) {
    $("connection").textContent = ok ? "" : "Playground server unreachable - is qlocks demo still running?";
    $("connection").hidden = ok;
  }

  // ---- rendering -----------------------------------------------------------------------------------------
  function render(data) {
    const changed = !view.data || data.version !== view.data.version || data.me !== view.data.me;
    view.data = data;
    if (!view.me) view.me = data.me;
    renderWhoAmI(data);
    if (changed) renderMessages(data);
    renderCluster(data.cluster);
    view.version = data.version;
  }

  function renderWhoAmI(data) {
    const box = $("whoami");
    if (box.childElementCount) {
      for (const button of box.querySelectorAll("button")) button.setAttribute("aria-pressed", String(button.dataset.user === data.me));
      return;
    }
    for (const [id, user] of Object.entries(data.users)) {
      if (user.is_bot) continue;
      const button = el("button", "who", user.real_name);
      button.type = "button";
      button.dataset.user = id;
      if (user.is_admin) button.appendChild(el("span", "badge", "admin"));
      button.setAttribute("aria-pressed", String(id === data.me));
      button.addEventListener("click", () => switchUser(id));
      box.appendChild(button);
    }
  }

  function switchUser(id) {
    view.me = id;
    localStorage.setItem("qlocks-playground-me", id);
    view.data = null;
    refresh();
  }

  // Messages are keyed by ts and re-rendered only when their content changed, so a button being clicked is
  // not swapped out from under the pointer by an unrelated update.
  const rendered = new Map(); // ts -> {key, node}

  function renderMessages(data) {
    const list = $("messages");
    const nearBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    const nodes = [];
    const seen = new Set();
    for (const message of data.messages) {
      const key = JSON.stringify([message, data.me]);
      let entry = rendered.get(message.ts);
      if (!entry || entry.key !== key) {
        entry = { key, node: renderMessage(message, data) };
        rendered.set(message.ts, entry);
      }
      seen.add(message.ts);
      nodes.push(entry.node);
    }
    for (const ts of [...rendered.keys()]) if (!seen.has(ts)) rendered.delete(ts);
    if (!nodes.length) nodes.push(el("div", "empty", "No messages yet. Try /qlocks search budget"));
    patchChildren(list, nodes);
    if (nearBottom || !view.scrolledOnce || Date.now() < view.followUntil) list.scrollTop = list.scrollHeight;
    view.scrolledOnce = true;
  }

  function renderMessage(message, data) {
    const author = data.users[message.user] || { name: message.user, is_bot: false };
    const row = el("div", "msg msg-" + message.kind);
    row.dataset.ts = message.ts;
    if (message.ephemeral) row.classList.add("ephemeral");
    row.appendChild(el("div", "avatar", (author.name || "?").slice(0, 1).toUpperCase()));
    const main = row.appendChild(el("div", "msg-main"));
    const head = main.appendChild(el("div", "msg-head"));
    head.appendChild(el("span", "author", author.name));
    if (author.is_bot && message.kind !== "system") head.appendChild(el("span", "app-badge", "APP"));
    head.appendChild(el("span", "time", new Date(parseFloat(message.ts) * 1000).toLocaleTimeString()));
    if (message.updated) head.appendChild(el("span", "updated", "(updated)"));
    const ctx = {
      users: data.users,
      onAction: (blockId, element, button) => clickButton(message, blockId, element, button),
    };
    main.appendChild(BK.renderMessageBody(message, ctx));
    if (message.ephemeral) main.appendChild(el("div", "only-you", "Only visible to you"));
    return row;
  }

  // ---- buttons and confirm dialogs -----------------------------------------------------------------------
  function clickButton(message, blockId, element, button) {
    if (element.confirm) confirmThen(element.confirm, () => sendAction(message, blockId, element, button));
    else sendAction(message, blockId, element, button);
  }

  function confirmThen(confirm, onConfirm) {
    const dialog = $("confirm");
    const ctx = { users: view.data ? view.data.users : {} };
    $("confirm-title").replaceChildren(BK.renderText(confirm.title || { type: "plain_text", text: "Are you sure?" }, ctx));
    $("confirm-text").replaceChildren(BK.renderText(confirm.text, ctx));
    const yes = $("confirm-yes");
    const no = $("confirm-no");
    yes.replaceChildren(BK.renderText(confirm.confirm || { type: "plain_text", text: "Yes" }, ctx));
    no.replaceChildren(BK.renderText(confirm.deny || { type: "plain_text", text: "Cancel" }, ctx));
    yes.className = "bk-button " + (confirm.style === "danger" ? "bk-danger" : "bk-primary");
    const close = (ok) => {
      yes.onclick = no.onclick = dialog.oncancel = null;
      dialog.close();
      if (ok) onConfirm();
    };
    yes.onclick = () => close(true);
    no.onclick = () => close(false);
    dialog.oncancel = () => close(false);
    dialog.showModal();
  }

  async function sendAction(message, blockId, element, button) {
    button.disabled = true;
    button.classList.add("busy");
    try {
      // The button as this page showed it: if the message changed meanwhile, the bot still gets the click and
      // answers it (as Slack does), rather than the page refusing it.
      const click = { as: view.me, ts: message.ts, block_id: blockId, action_id: element.action_id, value: element.value === undefined ? "" : String(element.value) };
      const result = await postJson("/pg/action", click);
      if (!result.ok) setStatus("Click not handled: " + (result.error || "HTTP " + result.status));
    } finally {
      button.disabled = false;
      button.classList.remove("busy");
      refresh();
    }
  }

  // ---- message box ---------------------------------------------------------------------------------------
  async function submitCommand(event) {
    event.preventDefault();
    const input = $("composer-input");
    const text = input.value.trim();
    if (!text) return;
    const search = /^\/qlocks\s+search\s+(.+)$/i.exec(text);
    if (search) setFilter(search[1].replace(/^(ip|host|user):/i, "").trim());
    input.disabled = true;
    setStatus("");
    view.followUntil = Date.now() + FOLLOW_MS; // like Slack: what you send and its answer come into view
    try {
      const result = await postJson("/pg/command", { as: view.me, text });
      if (result.ok || result.error === "invalid_command") input.value = "";
      if (!result.ok && result.error !== "invalid_command") setStatus("Not delivered: " + (result.error || "unknown error"));
    } catch (err) {
      setStatus("Not delivered: " + err);
    } finally {
      input.disabled = false;
      input.focus();
      refresh();
    }
  }

  function setStatus(text) {
    $("status").textContent = text;
  }

  // ---- cluster panel -------------------------------------------------------------------------------------
  function setFilter(text) {
    $("filter").value = text;
    view.filter = text;
    view.openPathEdited = false;
    refresh();
  }

  function renderCluster(cluster) {
    const panel = $("cluster");
    panel.hidden = !cluster;
    if (!cluster) return;
    $("handle-count").textContent = cluster.total + (cluster.filter ? " matching handles" : " open handles");
    const rows = [];
    const seen = new Set();
    for (const handle of cluster.handles) {
      const key = JSON.stringify(handle);
      let entry = panelRows.get(handle.location);
      if (!entry || entry.key !== key) {
        entry = { key, node: renderHandleRow(handle) };
        panelRows.set(handle.location, entry);
      }
      seen.add(handle.location);
      rows.push(entry.node);
    }
    for (const location of [...panelRows.keys()]) if (!seen.has(location)) panelRows.delete(location);
    patchChildren($("handles"), rows);
    $("handles-note").textContent = cluster.handles.length < cluster.total ? "showing " + cluster.handles.length + " of " + cluster.total : "";
    const openPath = $("open-path");
    if (!view.openPathEdited && document.activeElement !== openPath) openPath.value = cluster.handles.length ? cluster.handles[0].path : "";
  }

  const panelRows = new Map(); // location -> {key, node}

  function renderHandleRow(handle) {
    const tr = el("tr");
    tr.dataset.location = handle.location;
    tr.appendChild(el("td", "path", handle.path)).title = handle.path;
    tr.appendChild(el("td", "", handle.user));
    tr.appendChild(el("td", "", handle.client_ip || "")).title = handle.host || "";
    const button = tr.appendChild(el("td", "client-close-cell")).appendChild(el("button", "client-close", "\u00d7"));
    button.type = "button";
    button.title = "The client closes this file itself (makes a listed row stale)";
    button.setAttribute("aria-label", "client closes " + handle.path);
    button.addEventListener("click", () => clientClose(handle.location));
    return tr;
  }

  async function openHandle(event) {
    event.preventDefault();
    const path = $("open-path").value.trim();
    if (!path) return;
    const result = await postJson("/pg/open-handle", { path });
    const h = result.handle || {};
    const client = [h.client_ip, h.host ? "(" + h.host + ")" : ""].filter(Boolean).join(" ") || "another client";
    $("open-status").textContent = result.ok ? h.user + " opened " + h.path + " from " + client : "failed: " + result.error;
    refresh();
  }

  async function clientClose(location) {
    const result = await postJson("/pg/client-close", { location });
    $("open-status").textContent = result.ok ? "the client closed the handle" : "failed: " + result.error;
    refresh();
  }

  // ---- wiring --------------------------------------------------------------------------------------------
  document.addEventListener("DOMContentLoaded", () => {
    $("composer").addEventListener("submit", submitCommand);
    $("open-form").addEventListener("submit", openHandle);
    $("open-path").addEventListener("input", () => (view.openPathEdited = true));
    for (const kind of ["wheel", "touchmove"]) $("messages").addEventListener(kind, () => (view.followUntil = 0), { passive: true });
    let timer = null;
    $("filter").addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        view.filter = $("filter").value.trim();
        refresh();
      }, 250);
    });
    pollLoop();
  });
})();
