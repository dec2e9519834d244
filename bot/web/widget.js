/*
 * The helpline chat widget.
 *
 * The gateway serves this file after two generated lines that set
 * window.HELPLINE_UI (every language's UI texts and the facts: phone, e-mail,
 * 112) and window.HELPLINE_DEFAULT_LANGUAGE, so the contact bar needs no
 * request and shows even when nothing behind the page answers.
 *
 * Safety rules kept here (tests/browser checks them):
 * - message text, the user's and the bot's, goes into the page as TEXT only
 *   (textContent); the only links are the known facts (tel:, mailto:);
 * - by default the conversation lives in this page's memory only: nothing is
 *   written to any storage, a reload or a reopened tab starts afresh, and the
 *   page is emptied when it is left (pagehide), so Back or a restored tab
 *   (back/forward cache) does not show it again. A chat left in the tab's
 *   sessionStorage by an opted-in page is removed on start;
 * - only when the site owner opts in (data-storage="session") is the chat kept
 *   in the tab's sessionStorage, so it survives a reload in that tab;
 * - never localStorage, never cookies;
 * - the only request is POST /api/chat on the origin that served this script;
 * - the language changes only on an explicit choice (the button next to the
 *   picker, or Enter on it), never while arrowing through it (WCAG 3.2.2);
 * - quick exit, the GOV.UK "Exit this page" way: the button, or Shift pressed
 *   three times anywhere on the page (no other key in between, at most 5 s
 *   apart), or Esc while focus is inside the widget (the host page keeps Esc
 *   for its own dialogs). It clears the chat and its storage and leaves with
 *   location.replace, so Back does not return to the chat.
 *
 * Site owners: see docs/widget.md. Script-tag options:
 *   data-exit-url   where quick exit goes (http or https; default below)
 *   data-container  CSS selector of the element to put the chat in
 *                   (default: #helpline-chat if present, else the end of <body>)
 *   data-timeout    seconds to wait for an answer before showing the contacts (15)
 *   data-storage    "session": keep the chat in the tab's sessionStorage
 *                   (default: memory only)
 */
(function () {
  "use strict";

  var UI = window.HELPLINE_UI;
  if (!UI || typeof UI !== "object" || window.__helplineWidget) {
    return;
  }
  window.__helplineWidget = true;

  var SCRIPT = document.currentScript || document.querySelector('script[src*="widget.js"]');
  var SCRIPT_URL = SCRIPT && SCRIPT.src ? SCRIPT.src : location.href;
  var DEFAULT_EXIT_URL = "https://www.google.com/search?q=weather";
  var STORE_KEY = "helpline-chat";
  var MAX_STORED = 200;
  var MAX_CHARS = 1000;
  var API_URL = new URL("/api/chat", SCRIPT_URL).href;
  var EXIT_URL = exitUrl(SCRIPT && SCRIPT.getAttribute("data-exit-url"));
  var TIMEOUT_MS = timeoutMs(SCRIPT && SCRIPT.getAttribute("data-timeout"));
  var KEEP_IN_SESSION = ((SCRIPT && SCRIPT.getAttribute("data-storage")) || "").trim().toLowerCase() === "session";
  var SHIFT_PRESSES = 3;
  var SHIFT_WINDOW_MS = 5000; // the most between two presses of the sequence
  var CODES = Object.keys(UI);
  var DEFAULT_LANGUAGE = supported(window.HELPLINE_DEFAULT_LANGUAGE) || CODES[0];

  function exitUrl(raw) {
    if (raw) {
      try {
        var url = new URL(raw, location.href);
        if (url.protocol === "https:" || url.protocol === "http:") {
          return url.href;
        }
      } catch (e) {
        /* fall through to the default */
      }
    }
    return DEFAULT_EXIT_URL;
  }

  function timeoutMs(raw) {
    var seconds = parseFloat(raw);
    return seconds > 0 && seconds <= 120 ? seconds * 1000 : 15000;
  }

  function supported(code) {
    return typeof code === "string" && Object.prototype.hasOwnProperty.call(UI, code) ? code : null;
  }

  function browserLanguage() {
    var wanted = (navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language]) || [];
    for (var i = 0; i < wanted.length; i++) {
      var code = typeof wanted[i] === "string" ? wanted[i].toLowerCase() : "";
      var found = supported(code) || supported(code.split("-")[0]);
      if (found) {
        return found;
      }
    }
    return null;
  }

  /* ---- storage: memory by default; the tab's sessionStorage only when the
     site owner opted in (any failure: memory only) ---- */

  function load() {
    if (!KEEP_IN_SESSION) {
      // A chat an opted-in page (or an older widget) left in this tab is not
      // shown here, and not kept.
      forget();
      return null;
    }
    try {
      var saved = JSON.parse(window.sessionStorage.getItem(STORE_KEY) || "null");
      if (saved && typeof saved === "object") {
        return saved;
      }
    } catch (e) {
      /* unreadable or unavailable: start afresh */
    }
    return null;
  }

  function save() {
    if (!KEEP_IN_SESSION) {
      return;
    }
    try {
      window.sessionStorage.setItem(
        STORE_KEY,
        JSON.stringify({
          sender: state.sender,
          language: state.language,
          messages: state.messages.slice(-MAX_STORED)
        })
      );
    } catch (e) {
      /* storage full or disabled: the chat still works for this page */
    }
  }

  function forget() {
    try {
      window.sessionStorage.removeItem(STORE_KEY);
    } catch (e) {
      /* nothing stored */
    }
  }

  function newSender() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    var hex = "";
    for (var i = 0; i < bytes.length; i++) {
      hex += (bytes[i] < 16 ? "0" : "") + bytes[i].toString(16);
    }
    return "web-" + hex;
  }

  var saved = load() || {};
  var state = {
    sender: typeof saved.sender === "string" && /^[A-Za-z0-9_-]{8,64}$/.test(saved.sender) ? saved.sender : null,
    language: supported(saved.language) || browserLanguage() || DEFAULT_LANGUAGE,
    messages: Array.isArray(saved.messages) ? saved.messages.filter(validMessage) : []
  };
  var queue = Promise.resolve();
  var pending = 0;
  var inFlight = null;
  var exiting = false;
  var epoch = 0; // bumped when the conversation is cleared: late answers are dropped

  function validMessage(m) {
    return m && (m.from === "bot" || m.from === "user") && typeof m.text === "string";
  }

  /* ---- DOM helpers: text only, never HTML ---- */

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) {
      node.className = className;
    }
    if (text !== undefined && text !== null) {
      node.textContent = String(text);
    }
    return node;
  }

  function texts() {
    return UI[state.language].texts;
  }

  var uid = "hl-" + Math.random().toString(36).slice(2, 8);

  /* ---- the widget's parts ---- */

  var root = el("section", "hl-widget");
  root.id = uid;
  root.setAttribute("aria-labelledby", uid + "-title");

  var header = el("div", "hl-header");
  var title = el("h2", "hl-title");
  title.id = uid + "-title";
  var exitButton = el("button", "hl-exit");
  exitButton.type = "button";
  exitButton.addEventListener("click", quickExit);
  var exitText = el("span", "hl-exit-text");
  // GOV.UK's three lights: how many Shift presses of the sequence are in.
  var exitLights = el("span", "hl-exit-lights");
  exitLights.setAttribute("aria-hidden", "true");
  for (var l = 0; l < SHIFT_PRESSES; l++) {
    exitLights.appendChild(el("span", "hl-exit-light"));
  }
  exitButton.appendChild(exitText);
  exitButton.appendChild(exitLights);
  header.appendChild(title);
  header.appendChild(exitButton);

  var contacts = el("ul", "hl-contacts");

  // A form: the select only picks; the button (or Enter on the select) applies.
  // A closed select fires "change" on every arrow key, and acting on it would
  // switch the language and message the bot while the person is still looking.
  var languageRow = el("form", "hl-language");
  languageRow.setAttribute("novalidate", "");
  var languageLabel = el("label", "hl-language-label");
  languageLabel.htmlFor = uid + "-language";
  languageLabel.appendChild(globe());
  var languageLabelText = el("span");
  languageLabel.appendChild(languageLabelText);
  var select = el("select", "hl-select");
  select.id = uid + "-language";
  CODES.forEach(function (code) {
    var option = el("option", null, UI[code].name);
    option.value = code;
    option.lang = code;
    option.dir = UI[code].rtl ? "rtl" : "ltr";
    select.appendChild(option);
  });
  var languageButton = el("button", "hl-language-apply");
  languageButton.type = "submit";
  languageButton.id = uid + "-language-apply";
  languageLabelText.id = uid + "-language-label";
  // Named "Send" + "Choose your language": not mistaken for the message's Send.
  languageButton.setAttribute("aria-labelledby", languageButton.id + " " + languageLabelText.id);
  select.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.isComposing) {
      event.preventDefault();
      applyLanguage();
    }
  });
  languageRow.addEventListener("submit", function (event) {
    event.preventDefault();
    applyLanguage();
  });
  languageRow.appendChild(languageLabel);
  languageRow.appendChild(select);
  languageRow.appendChild(languageButton);

  function applyLanguage() {
    var code = supported(select.value);
    if (!code || code === state.language) {
      return;
    }
    setLanguage(code);
    send('/change_language{"language": "' + code + '"}', UI[code].name);
  }

  var log = el("div", "hl-log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  log.setAttribute("aria-relevant", "additions");
  log.setAttribute("aria-labelledby", uid + "-title");
  log.tabIndex = 0;

  var typing = el("div", "hl-typing");
  typing.setAttribute("role", "status");

  var form = el("form", "hl-form");
  form.setAttribute("novalidate", "");
  var inputLabel = el("label", "hl-visually-hidden");
  inputLabel.htmlFor = uid + "-input";
  var input = el("input", "hl-input");
  input.id = uid + "-input";
  input.type = "text";
  input.name = "message";
  input.maxLength = MAX_CHARS;
  input.autocomplete = "off";
  input.setAttribute("autocomplete", "off");
  input.setAttribute("enterkeyhint", "send");
  input.dir = "auto";
  var sendButton = el("button", "hl-send");
  sendButton.type = "submit";
  form.appendChild(inputLabel);
  form.appendChild(input);
  form.appendChild(sendButton);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) {
      input.focus();
      return;
    }
    input.value = "";
    send(text, text);
  });

  root.appendChild(header);
  root.appendChild(contacts);
  root.appendChild(languageRow);
  root.appendChild(log);
  root.appendChild(typing);
  root.appendChild(form);

  function globe() {
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    svg.setAttribute("class", "hl-globe");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var paths = [
      "M12 2a10 10 0 1 0 0 20a10 10 0 1 0 0-20z",
      "M2 12h20",
      "M12 2c2.8 2.7 4.2 6 4.2 10s-1.4 7.3-4.2 10c-2.8-2.7-4.2-6-4.2-10s1.4-7.3 4.2-10z"
    ];
    paths.forEach(function (d) {
      var path = document.createElementNS(ns, "path");
      path.setAttribute("d", d);
      svg.appendChild(path);
    });
    return svg;
  }

  /* ---- language: labels, contact bar and direction all follow it ---- */

  function setLanguage(code) {
    code = supported(code) || DEFAULT_LANGUAGE;
    state.language = code;
    var ui = UI[code];
    var t = ui.texts;
    root.lang = code;
    root.dir = ui.rtl ? "rtl" : "ltr";
    title.textContent = t.ui_title;
    exitText.textContent = t.ui_quick_exit;
    languageLabelText.textContent = t.ui_choose_language;
    languageButton.textContent = t.ui_send;
    inputLabel.textContent = t.ui_input_label;
    input.placeholder = t.ui_input_label;
    sendButton.textContent = t.ui_send;
    select.value = code;
    if (pending) {
      typing.textContent = t.ui_typing;
    }
    renderContacts(ui);
    if (!state.messages.length) {
      renderStarter();
    }
  }

  // Built once, relabelled on each language change (a focused link keeps focus).
  var contactLinks = ["phone", "email", "emergency"].map(function (name) {
    var li = el("li", "hl-contact hl-contact-" + name);
    var link = el("a", "hl-contact-link");
    var label = el("span", "hl-contact-label");
    var value = el("span", "hl-contact-value");
    value.dir = "ltr";
    link.appendChild(label);
    link.appendChild(document.createTextNode(" "));
    link.appendChild(value);
    li.appendChild(link);
    contacts.appendChild(li);
    return { name: name, link: link, label: label, value: value };
  });

  function renderContacts(ui) {
    var t = ui.texts;
    var targets = {
      phone: [t.ui_phone_label, ui.phone, ui.phone_uri],
      email: [t.ui_email_label, ui.email, "mailto:" + ui.email],
      emergency: [t.ui_emergency_label, ui.emergency, "tel:" + ui.emergency]
    };
    contactLinks.forEach(function (c) {
      var target = targets[c.name];
      c.label.textContent = target[0];
      c.value.textContent = target[1];
      c.link.href = target[2];
    });
  }

  /* ---- the conversation ---- */

  function renderStarter() {
    clearStarter();
    var t = texts();
    var buttons = Object.keys(t)
      .filter(function (key) {
        return key.indexOf("button_") === 0;
      })
      .map(function (key) {
        return { title: t[key], payload: "/" + key.slice("button_".length) };
      });
    if (buttons.length) {
      var starter = renderButtons(buttons, state.language);
      starter.classList.add("hl-starter");
      log.appendChild(starter);
    }
  }

  function clearStarter() {
    var old = log.querySelector(".hl-starter");
    if (old) {
      // A keyboard user who pressed one of these stays in the conversation.
      var hadFocus = old.contains(document.activeElement);
      old.remove();
      if (hadFocus) {
        log.focus({ preventScroll: true });
      }
    }
  }

  // The facts (phone, e-mail, websites) as they appear in the bot's text. In a
  // right-to-left paragraph "+358 2954 63177" would be shown in the wrong
  // order; each is isolated left to right. Text only: not links.
  var FACTS = (function () {
    var seen = {};
    CODES.forEach(function (code) {
      ["phone", "email", "website"].forEach(function (name) {
        var value = UI[code][name];
        if (typeof value === "string" && value.length > 3) {
          seen[value] = true;
        }
      });
    });
    return Object.keys(seen).sort(function (a, b) {
      return b.length - a.length;
    });
  })();

  function appendWithFacts(parent, text) {
    var at = 0;
    while (at < text.length) {
      var next = -1;
      var fact = null;
      for (var i = 0; i < FACTS.length; i++) {
        var found = text.indexOf(FACTS[i], at);
        if (found !== -1 && (next === -1 || found < next)) {
          next = found;
          fact = FACTS[i];
        }
      }
      if (next === -1) {
        parent.appendChild(document.createTextNode(text.slice(at)));
        return;
      }
      if (next > at) {
        parent.appendChild(document.createTextNode(text.slice(at, next)));
      }
      // Short facts (the phone number) are kept on one line too.
      var span = el("span", fact.length <= 20 ? "hl-fact hl-nowrap" : "hl-fact", fact);
      span.dir = "ltr";
      parent.appendChild(span);
      at = next + fact.length;
    }
  }

  function renderMessage(message) {
    var wrap = el("div", "hl-message hl-from-" + message.from);
    var bubble = el("p", "hl-bubble");
    if (message.from === "bot") {
      appendWithFacts(bubble, message.text);
    } else {
      bubble.textContent = message.text;
    }
    bubble.dir = "auto";
    if (message.from === "bot" && supported(message.language)) {
      wrap.lang = message.language;
    }
    wrap.appendChild(bubble);
    if (message.from === "bot" && Array.isArray(message.buttons) && message.buttons.length) {
      wrap.appendChild(renderButtons(message.buttons, message.language));
    }
    log.appendChild(wrap);
    return wrap;
  }

  function renderButtons(buttons, language) {
    var group = el("div", "hl-buttons");
    buttons.forEach(function (b) {
      if (!b || typeof b.title !== "string" || typeof b.payload !== "string" || !b.payload) {
        return;
      }
      var button = el("button", "hl-choice", b.title);
      button.type = "button";
      button.dir = "auto";
      var target = /^\/change_language\{"language":\s*"([a-z-]+)"\}$/.exec(b.payload);
      if (target && supported(target[1])) {
        button.lang = target[1];
      }
      button.addEventListener("click", function () {
        send(b.payload, b.title);
      });
      group.appendChild(button);
    });
    return group;
  }

  function addMessage(message) {
    clearStarter();
    state.messages.push(message);
    save();
    return renderMessage(message);
  }

  function scrollTo(node, toStart) {
    if (toStart) {
      log.scrollTop = Math.max(0, node.offsetTop - 8); // .hl-log is position: relative
    } else {
      log.scrollTop = log.scrollHeight;
    }
  }

  function showTyping(on) {
    typing.textContent = on ? texts().ui_typing : "";
    root.classList.toggle("hl-busy", on);
  }

  function send(message, shown) {
    if (exiting) {
      return;
    }
    if (!state.sender) {
      state.sender = newSender();
    }
    scrollTo(addMessage({ from: "user", text: shown }), false);
    pending += 1;
    showTyping(true);
    var language = state.language;
    var turn = epoch;
    queue = queue
      .then(function () {
        // Not asked at all when the conversation was cleared meanwhile.
        return turn === epoch && !exiting ? ask(message, language) : null;
      })
      .then(function (reply) {
        // ask() never rejects; whatever show() meets, the queue goes on and
        // the typing indicator goes off.
        if (turn !== epoch || exiting) {
          return;
        }
        pending -= 1;
        showTyping(pending > 0);
        try {
          show(reply);
        } catch (e) {
          show(fallback());
        }
      });
  }

  function fallback() {
    var t = texts();
    return {
      language: state.language,
      messages: [{ text: t.ui_backend_down + "\n\n" + t.contact_block, buttons: [] }]
    };
  }

  function usable(body) {
    return body && typeof body === "object" && Array.isArray(body.messages) &&
      body.messages.some(function (m) { return m && typeof m.text === "string"; });
  }

  function ask(message, language) {
    var controller = new AbortController();
    var timer = setTimeout(function () {
      controller.abort();
    }, TIMEOUT_MS);
    inFlight = controller;
    // The language the page shows goes along: the gateway answers its own
    // failures in it.
    return fetch(API_URL, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sender: state.sender, message: message, language: language }),
      credentials: "omit",
      cache: "no-store",
      referrerPolicy: "no-referrer",
      signal: controller.signal
    })
      .then(function (response) {
        return response.json().then(
          function (body) {
            return usable(body) ? body : fallback();
          },
          function () {
            return fallback();
          }
        );
      })
      .catch(function () {
        return fallback();
      })
      .then(function (body) {
        clearTimeout(timer);
        inFlight = null;
        return body;
      });
  }

  function show(reply) {
    var language = supported(reply.language) || state.language;
    if (language !== state.language) {
      setLanguage(language);
    }
    var first = null;
    reply.messages.forEach(function (m) {
      if (!m || typeof m.text !== "string") {
        return;
      }
      var buttons = Array.isArray(m.buttons)
        ? m.buttons
            .filter(function (b) { return b && typeof b.title === "string" && typeof b.payload === "string"; })
            .map(function (b) { return { title: b.title, payload: b.payload }; })
        : [];
      var node = addMessage({ from: "bot", text: m.text, buttons: buttons, language: language });
      first = first || node;
    });
    if (first) {
      scrollTo(first, true);
    }
  }

  /* ---- forgetting: the conversation out of memory, storage and the page ---- */

  function clearConversation() {
    epoch += 1;
    if (inFlight) {
      inFlight.abort();
    }
    forget();
    pending = 0;
    showTyping(false);
    state.messages = [];
    state.sender = null;
    log.textContent = "";
    input.value = "";
  }

  // Memory only: a page put into the back/forward cache would come back with
  // the conversation on Back or when the tab is restored. Empty it as it is
  // left (pagehide comes before the cache keeps the page; a tel: or mailto:
  // link does not leave the page).
  if (!KEEP_IN_SESSION) {
    window.addEventListener("pagehide", function () {
      if (exiting) {
        return;
      }
      clearConversation();
      setLanguage(browserLanguage() || DEFAULT_LANGUAGE);
    });
  }

  /* ---- quick exit: the button, Shift three times, Esc in the widget ---- */

  function quickExit() {
    if (exiting) {
      return;
    }
    exiting = true;
    resetShifts();
    clearConversation();
    document.documentElement.classList.add("hl-exiting");
    root.remove();
    window.location.replace(EXIT_URL);
  }

  // GOV.UK's "Exit this page" sequence: Shift pressed and released by itself
  // three times, each within 5 s of the one before. Any other key resets it,
  // and so does Shift used as a modifier (a capital letter: the letter's keyup
  // has shiftKey set, and the Shift keyup right after it is not counted).
  // Counted anywhere on the page, wherever focus is.
  var shifts = 0;
  var shiftTimer = null;
  var lastKeyWasModified = false;

  function isShift(event) {
    return event.key === "Shift" || event.keyCode === 16;
  }

  function showShifts() {
    exitButton.classList.toggle("hl-counting", shifts > 0);
    var lights = exitLights.children;
    for (var i = 0; i < lights.length; i++) {
      lights[i].classList.toggle("hl-on", i < shifts);
    }
  }

  function resetShifts() {
    shifts = 0;
    if (shiftTimer) {
      clearTimeout(shiftTimer);
      shiftTimer = null;
    }
    showShifts();
  }

  window.addEventListener(
    "keyup",
    function (event) {
      if (exiting) {
        return;
      }
      if (isShift(event) && !lastKeyWasModified) {
        shifts += 1;
        if (shifts >= SHIFT_PRESSES) {
          quickExit();
          return;
        }
        if (shiftTimer) {
          clearTimeout(shiftTimer);
        }
        shiftTimer = setTimeout(resetShifts, SHIFT_WINDOW_MS);
        showShifts();
      } else if (!isShift(event) && shifts) {
        resetShifts();
      }
      lastKeyWasModified = event.shiftKey;
    },
    true
  );

  window.addEventListener(
    "keydown",
    function (event) {
      if (exiting) {
        return;
      }
      if (!isShift(event) && shifts) {
        resetShifts(); // another key pressed in between
      }
      // Esc belongs to the host page (its own dialogs) unless focus is in the chat.
      if ((event.key === "Escape" || event.key === "Esc") && !event.isComposing && event.keyCode !== 229 &&
          root.contains(document.activeElement)) {
        event.preventDefault();
        quickExit();
      }
    },
    true
  );

  /* ---- start ---- */

  function ensureStylesheet() {
    var links = document.querySelectorAll('link[rel~="stylesheet"]');
    for (var i = 0; i < links.length; i++) {
      if (/(^|\/)widget\.css([?#]|$)/.test(links[i].getAttribute("href") || "")) {
        return;
      }
    }
    var link = document.createElement("link");
    link.rel = "stylesheet";
    link.href = new URL("widget.css", SCRIPT_URL).href;
    document.head.appendChild(link);
  }

  function mount() {
    ensureStylesheet();
    var selector = SCRIPT && SCRIPT.getAttribute("data-container");
    var container = null;
    try {
      container = selector ? document.querySelector(selector) : document.getElementById("helpline-chat");
    } catch (e) {
      container = null;
    }
    state.messages.forEach(renderMessage);
    setLanguage(state.language);
    (container || document.body).appendChild(root);
    log.scrollTop = log.scrollHeight;
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", mount);
  } else {
    mount();
  }
})();
