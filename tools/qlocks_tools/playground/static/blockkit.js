/* Block Kit and mrkdwn rendering for the qlocks playground.
 *
 * Safety rule: every string from the bot or the cluster reaches the DOM through textContent (or a DOM attribute
 * that is validated first). Nothing here ever parses a string as HTML.
 *
 * window.QBlockKit = { renderMrkdwn, renderText, renderBlocks, renderMessageBody, decodeEntities }
 *   ctx = { users: {id: {name}}, onAction(blockId, element) }   (onAction is called when a button is clicked)
 */
"use strict";
(function (global) {
  const ENTITY_NAMES = { amp: "&", lt: "<", gt: ">" };
  const PUA_FIRST = 0xe000;
  const PUA_LAST = 0xf8ff;
  const MAX_DEPTH = 4;

  function decodeEntities(text) {
    return String(text).replace(/&(amp|lt|gt);/g, (_, name) => ENTITY_NAMES[name]);
  }

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /* Replace every <...> sequence (and any private-use character already in the text) with one private-use
   * placeholder character, so formatting can be parsed across mentions without ever re-reading their text. */
  function extractTokens(text) {
    const tokens = [];
    const re = /<([^<>]*)>|[\ue000-\uf8ff]/g;
    let out = "";
    let last = 0;
    let match;
    while ((match = re.exec(text)) !== null) {
      if (PUA_FIRST + tokens.length > PUA_LAST) return null;
      out += text.slice(last, match.index);
      tokens.push(match[1] !== undefined ? { entity: match[1] } : { char: match[0] });
      out += String.fromCharCode(PUA_FIRST + tokens.length - 1);
      last = re.lastIndex;
    }
    return { text: out + text.slice(last), tokens };
  }

  function safeHref(url) {
    return /^(https?:\/\/|mailto:)/i.test(url) ? url : null;
  }

  function renderEntity(body, ctx) {
    const [target, ...rest] = body.split("|");
    const label = rest.length ? decodeEntities(rest.join("|")) : null;
    const users = (ctx && ctx.users) || {};
    if (target.startsWith("@")) {
      const user = users[target.slice(1)];
      return el("span", "mention", "@" + (user ? user.name : label || target.slice(1)));
    }
    if (target.startsWith("#")) return el("span", "mention", "#" + (label || target.slice(1)));
    if (target.startsWith("!subteam^")) return el("span", "mention", label || "@group");
    if (target.startsWith("!date^")) return el("span", "", label || "");
    if (target.startsWith("!")) return el("span", "mention", "@" + target.slice(1));
    const href = safeHref(decodeEntities(target));
    if (href) {
      const link = el("a", "link", label || href);
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      return link;
    }
    return document.createTextNode("<" + decodeEntities(body) + ">");
  }

  /* Text with placeholders -> text nodes (entities decoded) and rendered <...> tokens. */
  function appendPlain(parent, text, tokens, ctx) {
    let buffer = "";
    const flush = () => {
      if (buffer) parent.appendChild(document.createTextNode(decodeEntities(buffer)));
      buffer = "";
    };
    for (const ch of text) {
      const code = ch.charCodeAt(0);
      if (code >= PUA_FIRST && code < PUA_FIRST + tokens.length) {
        flush();
        const token = tokens[code - PUA_FIRST];
        parent.appendChild(token.char ? document.createTextNode(token.char) : renderEntity(token.entity, ctx));
      } else {
        buffer += ch;
      }
    }
    flush();
  }

  // ```pre```, `code`, *bold*, _italic_, ~strike~ (delimiters only at word boundaries, as Slack does)
  const FORMAT =
    /```([\s\S]+?)```|`([^`\n]+?)`|(?<![\w*])\*(?=\S)([^*\n]*?\S)\*(?![\w*])|(?<![\w_])_(?=\S)([^_\n]*?\S)_(?![\w_])|(?<![\w~])~(?=\S)([^~\n]*?\S)~(?![\w~])/g;

  function appendFormatted(parent, text, tokens, ctx, depth) {
    if (depth > MAX_DEPTH) return appendPlain(parent, text, tokens, ctx);
    const re = new RegExp(FORMAT.source, "g");
    let last = 0;
    let match;
    while ((match = re.exec(text)) !== null) {
      appendPlain(parent, text.slice(last, match.index), tokens, ctx);
      last = re.lastIndex;
      if (match[1] !== undefined) {
        const pre = el("pre", "pre");
        appendPlain(pre, match[1].replace(/^\n/, ""), tokens, ctx);
        parent.appendChild(pre);
      } else if (match[2] !== undefined) {
        const code = el("code", "code");
        appendPlain(code, match[2], tokens, ctx);
        parent.appendChild(code);
      } else {
        const tag = match[3] !== undefined ? "b" : match[4] !== undefined ? "i" : "s";
        const node = el(tag);
        appendFormatted(node, match[3] ?? match[4] ?? match[5], tokens, ctx, depth + 1);
        parent.appendChild(node);
      }
    }
    appendPlain(parent, text.slice(last), tokens, ctx);
  }

  function renderMrkdwn(text, ctx) {
    const span = el("span", "mrkdwn");
    const source = String(text ?? "");
    const extracted = extractTokens(source);
    if (extracted === null) span.textContent = decodeEntities(source);
    else appendFormatted(span, extracted.text, extracted.tokens, ctx, 0);
    return span;
  }

  /* A text object: plain_text is shown as sent, its &amp; &lt; &gt; decoded as Slack does; mrkdwn is parsed. */
  function renderText(obj, ctx) {
    if (!obj || typeof obj !== "object") return el("span", "plain", "");
    if (obj.type === "mrkdwn") return renderMrkdwn(obj.text, ctx);
    return el("span", "plain", decodeEntities(obj.text ?? ""));
  }

  function renderButton(element, blockId, ctx) {
    const button = el("button", "bk-button");
    button.type = "button";
    if (element.style === "primary" || element.style === "danger") button.classList.add("bk-" + element.style);
    button.appendChild(renderText(element.text, ctx));
    button.dataset.actionId = String(element.action_id ?? "");
    button.dataset.blockId = String(blockId ?? "");
    button.addEventListener("click", () => {
      if (ctx && ctx.onAction) ctx.onAction(blockId, element, button);
    });
    return button;
  }

  function renderElement(element, blockId, ctx) {
    if (element && element.type === "button") return renderButton(element, blockId, ctx);
    if (element && element.type === "image") return el("span", "bk-image", "[image: " + (element.alt_text ?? "") + "]");
    if (element && (element.type === "mrkdwn" || element.type === "plain_text")) return renderText(element, ctx);
    return el("span", "bk-unsupported", "[unsupported element: " + String(element && element.type) + "]");
  }

  function renderBlock(block, ctx) {
    const type = block && block.type;
    const blockId = block && block.block_id;
    let node;
    if (type === "header") {
      node = el("div", "bk-header");
      node.appendChild(renderText(block.text, ctx));
    } else if (type === "divider") {
      node = el("hr", "bk-divider");
    } else if (type === "section") {
      node = el("div", "bk-section");
      const body = el("div", "bk-section-body");
      if (block.text) body.appendChild(el("div", "bk-section-text")).appendChild(renderText(block.text, ctx));
      if (Array.isArray(block.fields) && block.fields.length) {
        const fields = body.appendChild(el("div", "bk-fields"));
        for (const field of block.fields) fields.appendChild(el("div", "bk-field")).appendChild(renderText(field, ctx));
      }
      node.appendChild(body);
      if (block.accessory) node.appendChild(el("div", "bk-accessory")).appendChild(renderElement(block.accessory, blockId, ctx));
    } else if (type === "context") {
      node = el("div", "bk-context");
      for (const element of block.elements || []) node.appendChild(renderElement(element, blockId, ctx));
    } else if (type === "actions") {
      node = el("div", "bk-actions");
      for (const element of block.elements || []) node.appendChild(renderElement(element, blockId, ctx));
    } else if (type === "image") {
      node = el("div", "bk-image", "[image: " + (block.alt_text ?? "") + "]");
    } else {
      node = el("div", "bk-unsupported", "[unsupported block: " + String(type) + "]");
    }
    node.classList.add("bk-block");
    if (blockId !== undefined) node.dataset.blockId = String(blockId);
    return node;
  }

  function renderBlocks(blocks, ctx) {
    const container = el("div", "bk-blocks");
    for (const block of blocks || []) container.appendChild(renderBlock(block, ctx));
    return container;
  }

  /* A message's body: its blocks when it has any, otherwise its text as mrkdwn. */
  function renderMessageBody(message, ctx) {
    if (Array.isArray(message.blocks) && message.blocks.length) return renderBlocks(message.blocks, ctx);
    const body = el("div", "bk-blocks");
    body.appendChild(renderMrkdwn(message.text, ctx));
    return body;
  }

  global.QBlockKit = { renderMrkdwn, renderText, renderBlocks, renderMessageBody, decodeEntities };
})(window);
