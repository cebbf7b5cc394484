// The simulator's phones. Each pane is one person's (or one group's) LINE chat with the bot.
// Everything a person does goes to the simulator's API, which signs a webhook for the bot.
(function () {
  "use strict";

  var panes = document.getElementById("panes");
  var drafts = {};
  var speakers = {};
  var last = "";

  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (name === "text") node.textContent = value;
      else if (name.indexOf("on") === 0) node.addEventListener(name.slice(2), value);
      else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value);
    });
    for (var i = 2; i < arguments.length; i++) if (arguments[i]) node.append(arguments[i]);
    return node;
  }

  function post(path, body) {
    return fetch(path, {
      method: "POST", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body || {})
    }).then(function (response) { return response.json(); }).then(function (data) {
      refresh();
      return data;
    });
  }

  var clockSteps = Promise.resolve();

  function act(person, action, body) { return post("/api/people/" + person + "/" + action, body); }

  // What a tap on one of the bot's buttons does, in a person's chat or in a group.
  function press(person, group, action) {
    if (action.type === "postback") {
      return act(person, "tap", { data: action.data, shown: action.shown, group: group });
    }
    if (action.type === "uri") return openLink(person, action.uri);
    if (action.type === "richmenuswitch") {
      return act(person, "switch", { alias: action.alias, data: action.data });
    }
    if (action.type === "message") return act(person, "say", { text: action.text });
    return Promise.resolve();
  }

  function openLink(person, uri) {
    return act(person, "open", { uri: uri }).then(function (answer) {
      if (answer.url) window.open(answer.url, "_blank");
      else if (answer.text) { drafts[person] = answer.text; render(lastState); }
      else window.open(uri, "_blank");
    });
  }

  function scan(reader, image) {
    return act(reader, "scan", { image: image }).then(function (answer) {
      if (answer.text) { drafts[reader] = answer.text; render(lastState); }
    });
  }

  function linkify(text, person) {
    var box = el("span");
    text.split(/(https:\/\/\S+)/).forEach(function (part) {
      if (/^https:\/\//.test(part)) {
        box.append(el("a", { href: "#", text: part, "class": "link", onclick: function (event) {
          event.preventDefault();
          openLink(person, part);
        } }));
      } else box.append(part);
    });
    return box;
  }

  // --- Flex messages, drawn as LINE draws them -----------------------------------------
  // LINE's sizes in pixels (its Flex Message Simulator's), its spacing and its default colours.
  var TEXT_SIZES = { xxs: 11, xs: 13, sm: 14, md: 16, lg: 19, xl: 22, xxl: 29, "3xl": 35, "4xl": 48, "5xl": 74 };
  var SPACING = { none: 0, xs: 2, sm: 4, md: 8, lg: 12, xl: 16, xxl: 20 };
  var BUBBLE_WIDTHS = { nano: 120, micro: 160, kilo: 260, mega: 300, giga: 386 };
  var BUTTON_COLOURS = { primary: "#17c950", secondary: "#dcdfe5", link: "#42659a" };
  var COLOUR = /^#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?$/;
  var LENGTH = /^[0-9.]+(px|%)$/;

  function colour(value, fallback) { return COLOUR.test(value || "") ? value : fallback; }
  function pixels(value, table) {
    if (value in table) return table[value] + "px";
    return LENGTH.test(value || "") ? value : null;
  }

  // A component's space before it: its own margin, else its box's spacing (none for the first).
  function spaced(node, part, vertical, index, spacing) {
    var gap = node.margin !== undefined ? pixels(node.margin, SPACING) : (index > 0 ? spacing : null);
    if (gap && index > 0) part.style[vertical ? "marginTop" : "marginLeft"] = gap;
    if (node.flex !== undefined && !vertical) part.style.flex = String(node.flex) + " 1 0";
    else if (node.flex !== undefined && node.flex > 0) part.style.flexGrow = String(node.flex);
  }

  function flexPart(node, ctx) {
    var part;
    if (node.type === "box") {
      var layout = node.layout || "vertical";
      part = el("div", { "class": "flex-box flex-" + layout });
      if (node.backgroundColor) part.style.backgroundColor = colour(node.backgroundColor, "");
      if (node.borderColor) part.style.borderColor = colour(node.borderColor, "");
      if (node.borderWidth) { part.style.borderStyle = "solid"; part.style.borderWidth = pixels(node.borderWidth, { none: 0, light: 0.5, normal: 1, medium: 2, "semi-bold": 3, bold: 4 }) || "1px"; }
      if (node.cornerRadius) part.style.borderRadius = pixels(node.cornerRadius, SPACING);
      ["All", "Top", "Bottom", "Start", "End"].forEach(function (side) {
        var value = node["padding" + side];
        if (!value) return;
        var length = pixels(value, SPACING);
        if (side === "All") part.style.padding = length;
        else part.style["padding" + { Top: "Top", Bottom: "Bottom", Start: "Left", End: "Right" }[side]] = length;
      });
      var spacing = node.spacing ? pixels(node.spacing, SPACING) : null;
      (node.contents || []).forEach(function (child, index) {
        var drawn = flexPart(child, ctx);
        spaced(child, drawn, layout === "vertical", index, spacing);
        part.append(drawn);
      });
    } else if (node.type === "text") {
      part = el("p", { "class": "flex-text" });
      if (node.contents && node.contents.length) {
        node.contents.forEach(function (span) { part.append(flexText(el("span", { text: span.text }), span)); });
      } else part.textContent = node.text || "";
      flexText(part, node);
      if (node.wrap) part.classList.add("wrap");
      if (node.align) part.style.textAlign = { start: "left", end: "right", center: "center" }[node.align] || "";
    } else if (node.type === "button") {
      var style = node.style || "link";
      var action = ctx.message.buttons[node.act] || { label: "" };
      part = el("button", { type: "button", text: action.label, "class": "flex-button flex-" + style + " flex-" + (node.height || "md"),
        onclick: function () { press(ctx.who, ctx.group, action); } });
      var tint = colour(node.color, BUTTON_COLOURS[style] || BUTTON_COLOURS.link);
      if (style === "link") part.style.color = tint;
      else part.style.backgroundColor = tint;
    } else if (node.type === "separator") {
      part = el("hr", { "class": "flex-separator" });
      if (node.color) part.style.borderTopColor = colour(node.color, "");
    } else if (node.type === "image" || node.type === "icon") {
      part = el("img", { "class": "flex-" + node.type, src: node.url, alt: "" });
    } else if (node.type === "spacer") {
      part = el("div", { "class": "flex-spacer" });
      part.style.height = pixels(node.size || "md", SPACING);
    } else {
      part = el("div", { "class": "flex-filler" });
    }
    if (node.act !== undefined && node.type !== "button") {
      var tapped = ctx.message.buttons[node.act];
      part.classList.add("flex-tappable");
      part.addEventListener("click", function () { press(ctx.who, ctx.group, tapped); });
    }
    return part;
  }

  function flexText(part, node) {
    if (node.size) part.style.fontSize = pixels(node.size, TEXT_SIZES);
    if (node.weight === "bold") part.style.fontWeight = "bold";
    if (node.color) part.style.color = colour(node.color, "");
    if (node.style === "italic") part.style.fontStyle = "italic";
    if (node.decoration === "underline" || node.decoration === "line-through") part.style.textDecoration = node.decoration;
    return part;
  }

  function flexBubble(bubble, ctx) {
    var box = el("div", { "class": "flex-bubble", "data-size": bubble.size || "mega" });
    box.style.maxWidth = (BUBBLE_WIDTHS[bubble.size] || BUBBLE_WIDTHS.mega) + "px";
    var styles = bubble.styles || {};
    ["header", "hero", "body", "footer"].forEach(function (block) {
      if (!bubble[block]) return;
      var part = flexPart(bubble[block], ctx);
      part.classList.add("flex-block", "flex-" + block);
      var look = styles[block] || {};
      if (look.backgroundColor) part.style.backgroundColor = colour(look.backgroundColor, "");
      if (look.separator) part.classList.add("flex-separated");
      box.append(part);
    });
    return box;
  }

  function flexMessage(message, ctx) {
    var flex = message.flex;
    if (flex.type === "carousel") {
      var row = el("div", { "class": "flex-carousel" });
      (flex.contents || []).forEach(function (bubble) { row.append(flexBubble(bubble, ctx)); });
      return row;
    }
    return flexBubble(flex, ctx);
  }

  function bubble(message, viewer, group, names) {
    var mine = message.sender !== "bot" && message.sender === viewer;
    var who = group ? speakers[group] : viewer;
    var kind = message.flex ? " card flex" : (message.kind === "card" ? " card" : "");
    var box = el("div", { "class": "msg" + (mine ? " mine" : "") + kind });
    if (group && message.sender !== "bot" && !mine) box.append(el("span", { "class": "who", text: names[message.sender] || "" }));
    if (group && message.sender === "bot") box.append(el("span", { "class": "who", text: "みまもり" }));
    if (message.kind === "image") {
      box.append(el("img", { src: message.image, alt: "QR" }));
    } else if (message.flex) {
      box.append(flexMessage(message, { message: message, who: who, group: group }));
    } else {
      box.append(linkify(message.text, who));
    }
    if (!message.flex) {
      message.buttons.forEach(function (action, index) {
        box.append(el("button", { text: action.label, "class": index === 0 ? "primary" : "", onclick: function () {
          press(who, group, action);
        } }));
      });
    }
    box.append(el("span", { "class": "at", text: message.at }));
    return box;
  }

  function compose(person, group) {
    var input = el("input", { placeholder: "メッセージ", value: drafts[person] || "" });
    input.addEventListener("input", function () { drafts[person] = input.value; });
    var form = el("form", { "class": "compose", onsubmit: function (event) {
      event.preventDefault();
      var who = group ? speakers[group] : person;
      if (!input.value) return;
      var text = input.value;
      drafts[person] = "";
      act(who, "say", { text: text, group: group });
    } }, input, el("button", { text: "送信" }));
    return form;
  }

  function quickReplies(messages, viewer, group) {
    var lastBot = null;
    for (var i = messages.length - 1; i >= 0; i--) {
      if (messages[i].sender === "bot") { lastBot = messages[i]; break; }
      if (messages[i].sender === viewer) break;
    }
    if (!lastBot || !lastBot.quick.length) return null;
    var bar = el("div", { "class": "quick" });
    lastBot.quick.forEach(function (action) {
      bar.append(el("button", { text: action.label, onclick: function () {
        press(group ? speakers[group] : viewer, group, action);
      } }));
    });
    return bar;
  }

  // The newest QR code on someone else's screen: what this person's camera would point at.
  function latestQr(reader) {
    var found = null;
    lastState.people.forEach(function (person) {
      if (person.key === reader) return;
      person.chat.forEach(function (message) { if (message.kind === "image") found = message.image; });
    });
    return found;
  }

  function personPane(person) {
    var head = el("div", { "class": "pane-head" }, el("h2", { text: person.name }),
      person.following
        ? el("button", { text: "ブロック", onclick: function () { act(person.key, "block"); } })
        : el("button", { text: "友だち追加", "data-follow": person.key, onclick: function () { act(person.key, "follow"); } }),
      el("button", { text: "QRを読み取る", title: "ほかの人の画面のQRコードを、このスマホのカメラで読み取る",
        onclick: function () {
          var image = latestQr(person.key);
          if (image) scan(person.key, image);
        } }),
      el("button", { text: "機器", "data-device": person.key,
        title: "玄関のセンサーが動きを知らせる（はじめはマイページの API で機器をつなぐ）",
        onclick: function () { act(person.key, "device"); } }),
      el("a", { href: "/mypage/" + person.key, target: "_blank", text: "マイページ" }));
    var log = el("div", { "class": "log" });
    person.chat.forEach(function (message) { log.append(bubble(message, person.key, null, {})); });
    var pane = el("section", { "class": "pane", "data-person": person.key, "data-name": person.name },
      head, log, quickReplies(person.chat, person.key, null), compose(person.key, null));
    if (person.rich_menu) pane.append(richMenu(person));
    return pane;
  }

  // The rich menu under the chat, as LINE shows it: the image, each tile a button.
  function richMenu(person) {
    var menu = el("div", { "class": "richmenu", "data-richmenu": person.key },
      el("img", { src: person.rich_menu.image, alt: person.rich_menu.bar,
        width: person.rich_menu.width, height: person.rich_menu.height }));
    person.rich_menu.areas.forEach(function (area) {
      var button = el("button", { type: "button", title: area.action.label, "aria-label": area.action.label,
        onclick: function () { press(person.key, null, area.action); } });
      button.style.left = area.left + "%";
      button.style.width = area.width + "%";
      button.style.top = area.top + "%";
      button.style.height = area.height + "%";
      menu.append(button);
    });
    return menu;
  }

  function groupPane(group, people) {
    var names = {};
    people.forEach(function (p) { names[p.key] = p.name; });
    if (!speakers[group.key] || group.members.indexOf(speakers[group.key]) < 0) speakers[group.key] = group.members[0];
    var who = el("select", { title: "発言する人", "aria-label": "発言する人" });
    group.members.forEach(function (key) {
      var option = el("option", { value: key, text: names[key] });
      if (key === speakers[group.key]) option.selected = true;
      who.append(option);
    });
    who.addEventListener("change", function () { speakers[group.key] = who.value; });
    var adder = el("select", { title: "メンバーを追加", "aria-label": "メンバーを追加" }, el("option", { value: "", text: "＋メンバー" }));
    people.forEach(function (p) {
      if (group.members.indexOf(p.key) < 0) adder.append(el("option", { value: p.key, text: p.name }));
    });
    adder.addEventListener("change", function () {
      if (adder.value) post("/api/groups/" + group.key + "/add-member", { person: adder.value });
    });
    var head = el("div", { "class": "pane-head" }, el("h2", { text: "👥 " + group.name }),
      group.bot_in
        ? el("button", { text: "みまもりを退出させる", onclick: function () { post("/api/groups/" + group.key + "/remove-bot"); } })
        : el("button", { text: "みまもりを招待", "data-invite-bot": group.key, onclick: function () { post("/api/groups/" + group.key + "/invite-bot"); } }),
      who, adder);
    var log = el("div", { "class": "log" });
    group.chat.forEach(function (message) { log.append(bubble(message, speakers[group.key], group.key, names)); });
    return el("section", { "class": "pane group", "data-group": group.key }, head, log,
      quickReplies(group.chat, speakers[group.key], group.key), compose(group.key, group.key));
  }

  // The landline: each call the bot placed, what its voice says, and the handset's keys.
  function landlinePane(rings) {
    var log = el("div", { "class": "log" });
    rings.forEach(function (ring) {
      var box = el("div", { "class": "bubble bot ring", "data-call": ring.sid },
        el("small", { text: ring.at + " ☎ " + ring.number }),
        el("p", { text: ring.spoken.length ? ring.spoken[0] : "" }));
      ring.heard.forEach(function (words) { box.append(el("p", { "class": "heard", text: words })); });
      if (ring.ended) {
        box.append(el("small", { "class": "ended", "data-ended": ring.ended,
          text: ring.ended === "completed" ? "通話終了" : "出ませんでした（応答なし）" }));
      } else {
        box.classList.add("ringing");
        box.append(el("small", { "class": "ringing-now", text: "📳 呼び出し中（" + ring.timeout + "秒で切れます）" }));
        var keypad = el("div", { "class": "keypad" });
        ["1", "2", "3"].forEach(function (digit) {
          keypad.append(el("button", { text: digit, "data-key": digit, onclick: function () {
            post("/api/calls/" + ring.sid + "/press", { digits: digit });
          } }));
        });
        keypad.append(el("button", { text: "出ない", onclick: function () {
          post("/api/calls/" + ring.sid + "/ignore");
        } }));
        box.append(keypad);
      }
      log.append(box);
    });
    return el("section", { "class": "pane landline", "data-landline": "1" },
      el("div", { "class": "pane-head" }, el("h2", { text: "☎ 固定電話" })), log);
  }

  var lastState = null;
  // What each pane held at the last drawing, and when it last received something: the page
  // follows the action to the phone that just received something, and marks it for a moment.
  var seen = null;
  var freshSince = {};
  var FRESH_MS = 4000;

  function paneKey(pane) { return pane.dataset.person || pane.dataset.group || (pane.dataset.landline ? "landline" : ""); }

  function holdings(state) {
    var held = {};
    state.people.forEach(function (person) { held[person.key] = person.chat.length; });
    state.groups.forEach(function (group) { held[group.key] = group.chat.length; });
    held.landline = state.landline.map(function (ring) { return ring.sid + ring.ended + ring.heard.length; }).join("|");
    return held;
  }

  // The panes whose chat changed since the last drawing (none at the first).
  function news(state) {
    var held = holdings(state), arrived = {};
    if (seen !== null) {
      Object.keys(held).forEach(function (key) { if (held[key] !== seen[key] && held[key]) arrived[key] = true; });
    }
    seen = held;
    return arrived;
  }

  function follow(arrived) {
    var now = Date.now();
    Object.keys(arrived).forEach(function (key) { freshSince[key] = now; });
    var target = null;
    panes.querySelectorAll(".pane").forEach(function (pane) {
      var key = paneKey(pane);
      if (!(now - (freshSince[key] || 0) < FRESH_MS)) return;
      pane.classList.add("fresh");
      pane.setAttribute("data-fresh", "1");
      if (arrived[key] && target === null && !inView(pane)) target = pane;
    });
    if (target) {
      var still = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
      target.scrollIntoView({ behavior: still ? "auto" : "smooth", block: "nearest", inline: "nearest" });
    }
    setTimeout(function () {
      panes.querySelectorAll(".pane.fresh").forEach(function (pane) {
        if (!(Date.now() - (freshSince[paneKey(pane)] || 0) < FRESH_MS)) {
          pane.classList.remove("fresh");
          pane.removeAttribute("data-fresh");
        }
      });
    }, FRESH_MS + 50);
  }

  function inView(pane) {
    var box = pane.getBoundingClientRect(), area = panes.getBoundingClientRect();
    return box.left >= area.left - 1 && box.right <= area.right + 1 && box.left >= -1 && box.right <= window.innerWidth + 1;
  }

  function narrate(lines) {
    var line = document.getElementById("narration");
    if (!lines.length) { line.hidden = true; return; }
    line.hidden = false;
    var text = lines[lines.length - 1];
    if (line.dataset.step !== String(lines.length)) {
      line.dataset.step = String(lines.length);
      document.getElementById("narration-step").textContent = "ツアー " + lines.length;
      document.getElementById("narration-text").textContent = text;
    }
  }

  function showConsole(door) {
    var box = document.getElementById("console-login");
    if (!door) { box.hidden = true; return; }
    box.hidden = false;
    var link = document.getElementById("console-link");
    link.href = door.url;
    document.getElementById("console-name").textContent = door.name;
    document.getElementById("console-password").textContent = door.password;
    document.getElementById("console-code").textContent = door.code;
  }

  function render(state) {
    if (!state) return;
    lastState = state;
    document.getElementById("now").textContent = state.now;
    narrate(state.narration || []);
    showConsole(state.console);
    var scrolls = {};
    panes.querySelectorAll(".pane").forEach(function (pane) {
      var log = pane.querySelector(".log");
      scrolls[paneKey(pane)] = { bottom: log.scrollTop + log.clientHeight >= log.scrollHeight - 4, top: log.scrollTop };
    });
    var focused = document.activeElement && document.activeElement.closest && document.activeElement.closest(".pane");
    if (focused && document.activeElement.tagName === "INPUT") return;  // do not steal the typing
    var arrived = news(state);
    panes.replaceChildren();
    state.people.forEach(function (person) { panes.append(personPane(person)); });
    state.groups.forEach(function (group) { panes.append(groupPane(group, state.people)); });
    if (state.landline.length) panes.append(landlinePane(state.landline));
    panes.querySelectorAll(".pane").forEach(function (pane) {
      var log = pane.querySelector(".log");
      var key = paneKey(pane), was = scrolls[key];
      if (arrived[key]) showNewest(log);
      else if (!was || was.bottom) log.scrollTop = log.scrollHeight;
      else log.scrollTop = was.top;
    });
    follow(arrived);
  }

  // A phone's chat shows what just came, as LINE does; a card taller than the screen from
  // its top, so its title is read before its buttons.
  function showNewest(log) {
    var newest = log.lastElementChild;
    if (newest && newest.offsetHeight > log.clientHeight) log.scrollTop = newest.offsetTop - 8;
    else log.scrollTop = log.scrollHeight;
  }

  function refresh() {
    return fetch("/api/state").then(function (response) { return response.json(); }).then(function (state) {
      var text = JSON.stringify(state);
      if (text !== last) { last = text; render(state); }
    });
  }

  document.querySelectorAll("[data-advance]").forEach(function (button) {
    button.addEventListener("click", function () {
      // Clicks that come quickly (次の確認まで進める, then +1日) move time in the order pressed:
      // sent together, the second could land first and the check-in would skip a day.
      clockSteps = clockSteps.then(function () {
        return post("/api/clock", { advance: button.dataset.advance });
      }).catch(function () {});
    });
  });
  document.getElementById("tour").addEventListener("click", function () { post("/api/tour"); });
  ["quake", "heat", "storm"].forEach(function (feed) {
    document.getElementById(feed).addEventListener("click", function () { post("/api/" + feed); });
  });
  document.getElementById("add-person").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = event.target.elements.name;
    post("/api/people", { name: input.value }).then(function () { input.value = ""; });
  });
  refresh();
  setInterval(refresh, 1000);
})();
