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

  function bubble(message, viewer, group, names) {
    var mine = message.sender !== "bot" && message.sender === viewer;
    var box = el("div", { "class": "msg" + (mine ? " mine" : "") + (message.kind === "card" ? " card" : "") });
    if (group && message.sender !== "bot" && !mine) box.append(el("span", { "class": "who", text: names[message.sender] || "" }));
    if (group && message.sender === "bot") box.append(el("span", { "class": "who", text: "みまもり" }));
    if (message.kind === "image") {
      box.append(el("img", { src: message.image, alt: "QR" }));
    } else {
      box.append(linkify(message.text, group ? speakers[group] : viewer));
    }
    message.buttons.forEach(function (action, index) {
      box.append(el("button", { text: action.label, "class": index === 0 ? "primary" : "", onclick: function () {
        press(group ? speakers[group] : viewer, group, action);
      } }));
    });
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
      el("img", { src: person.rich_menu.image, alt: person.rich_menu.bar }));
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
        box.append(el("small", { text: ring.ended === "completed" ? "通話終了" : "出ませんでした" }));
      } else {
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

  function render(state) {
    if (!state) return;
    lastState = state;
    document.getElementById("now").textContent = state.now;
    var scrolls = {};
    panes.querySelectorAll(".pane").forEach(function (pane) {
      var log = pane.querySelector(".log");
      scrolls[pane.dataset.person || pane.dataset.group] = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
    });
    var focused = document.activeElement && document.activeElement.closest && document.activeElement.closest(".pane");
    if (focused && document.activeElement.tagName === "INPUT") return;  // do not steal the typing
    panes.replaceChildren();
    state.people.forEach(function (person) { panes.append(personPane(person)); });
    state.groups.forEach(function (group) { panes.append(groupPane(group, state.people)); });
    if (state.landline.length) panes.append(landlinePane(state.landline));
    panes.querySelectorAll(".pane").forEach(function (pane) {
      var log = pane.querySelector(".log");
      var key = pane.dataset.person || pane.dataset.group;
      if (scrolls[key] !== false) log.scrollTop = log.scrollHeight;
    });
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
  document.getElementById("quake").addEventListener("click", function () { post("/api/quake"); });
  document.getElementById("add-person").addEventListener("submit", function (event) {
    event.preventDefault();
    var input = event.target.elements.name;
    post("/api/people", { name: input.value }).then(function () { input.value = ""; });
  });
  refresh();
  setInterval(refresh, 1000);
})();
