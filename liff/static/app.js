// My page. Every call sends the LIFF ID token; the server decides who the caller is and what
// they may see. All text comes from the server (locales/), all user data goes in as textContent.
(function () {
  "use strict";

  var body = document.body;
  var page = body.dataset.page;
  var statusBox = document.getElementById("status");
  var content = document.getElementById("content");
  var termsSection = document.getElementById("terms");
  var acceptButton = document.getElementById("accept-terms");
  var texts = JSON.parse(document.getElementById("texts").textContent);
  var token = null;
  var INTERVALS = [1, 2, 3, 5, 7, 14];
  var languages = {};
  var currentLanguage = "ja";

  function t(key, vars) {
    var text = texts[key] || key;
    Object.keys(vars || {}).forEach(function (name) {
      text = text.split("{" + name + "}").join(vars[name]);
    });
    return text;
  }

  function el(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (name === "text") node.textContent = value;
      else if (name.indexOf("on") === 0) node.addEventListener(name.slice(2), value);
      else if (value === true) node.setAttribute(name, "");
      else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value);
    });
    for (var i = 2; i < arguments.length; i++) {
      if (arguments[i]) node.append(arguments[i]);
    }
    return node;
  }

  function show(message, isError) {
    statusBox.textContent = message;
    statusBox.className = "notice" + (isError ? " error" : "");
    statusBox.hidden = false;
  }

  function api(method, path, payload) {
    var init = { method: method, headers: { Authorization: "Bearer " + token } };
    if (payload !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(payload);
    }
    return fetch(path, init).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var problem = new Error(data.error || String(response.status));
          problem.status = response.status;
          problem.data = data;
          throw problem;
        }
        return data;
      });
    });
  }

  function relabel() {
    document.querySelectorAll("[data-text]").forEach(function (node) {
      node.textContent = t(node.dataset.text);
    });
  }

  function failed() { show(t("failed"), true); }

  // --- start: LIFF, the token, the terms -------------------------------------------------
  function start() {
    if (!window.liff) { show(t("sdk_failed"), true); return; }
    Promise.resolve()
      .then(function () { return window.liff.init({ liffId: body.dataset.liffId }); })
      .then(function () {
        if (!window.liff.isLoggedIn()) { window.liff.login(); throw new Error("login"); }
        token = window.liff.getIDToken();
        if (!token) throw new Error("no token");
      })
      .then(function () {
        return api("GET", "/liff/api/me").catch(function (problem) {
          show(t("auth_failed"), true);
          throw problem;
        });
      }, function (problem) {
        if (problem.message !== "login") show(t("sdk_failed"), true);
        throw problem;
      })
      .then(function (me) {
        texts = Object.assign(texts, me.texts);
        languages = me.languages || {};
        document.documentElement.lang = me.language;
        currentLanguage = me.language;
        relabel();
        // Her card opens before the terms: nobody at her door is kept from her number.
        if (!me.terms_accepted && page !== "card") { askTerms(); return; }
        render(me);
      })
      .catch(function () { /* already shown */ });
  }

  function askTerms() {
    termsSection.hidden = false;
    show(t("terms_intro"), false);
    acceptButton.hidden = false;
    acceptButton.onclick = function () {
      api("POST", "/liff/api/terms", {}).then(function () {
        acceptButton.hidden = true;
        termsSection.hidden = page !== "terms";
        return api("GET", "/liff/api/me");
      }).then(render, failed);
    };
  }

  function render(me) {
    statusBox.hidden = true;
    content.hidden = false;
    content.replaceChildren();
    if (page === "teams") renderTeams();
    else if (page === "card") renderCard();
    else if (page === "terms") show(t("terms_accepted"), false);
    else renderMyPage(me.member);
  }

  function reload() {
    api("GET", "/liff/api/me").then(render, failed);
  }

  // --- My page ------------------------------------------------------------------------------
  // A list of facts, each label with its value in a row of its own: the row wraps (the value
  // under its label) when both do not fit, so at 200 % text no value is squeezed to a
  // character a line.
  function facts(id, rows) {
    var list = el("dl", { id: id });
    rows.forEach(function (row) {
      if (!row[1]) return;
      list.append(el("div", { class: "fact" }, el("dt", { text: row[2] || t(row[0]) }),
        el("dd", { text: row[1], "data-field": row[0] })));
    });
    return list;
  }

  // A person's card as a manager who watches her reads it (read only).
  function cardList(member) {
    var rows = [
      ["member_id", String(member.id)], ["nickname", member.nickname],
      ["registered", member.registered], ["status", member.status],
      ["schedule", member.schedule], ["next", member.next], ["last_ok", member.last_ok],
      ["round", member.round], ["last_activity", member.last_activity]
    ];
    if (!member.personal) rows.push(["personal", t("personal_not_shared")]);
    ["full_name", "furigana", "gender", "birth_date", "phone", "address"].forEach(function (name) {
      var value = member.personal ? member.personal[name] : "";
      if (value) rows.push([name, name === "gender" ? t("gender_" + value) : value]);
    });
    var card = el("div", { class: "card" }, el("h2", { text: t("card_title") }),
      facts("member-card", rows));
    if (member.memo && !member.own) {
      // A manager sees the note only while an alert is open (the server decides).
      card.append(el("h3", { text: t("memo_title") }),
        el("p", { class: "memo", id: "memo-view", text: member.memo }));
    }
    if (member.alert_open) card.append(el("p", { class: "alert", text: t("alert_open") }));
    if (member.paused_label) {
      card.append(el("p", { class: "notice", id: "paused", text: member.paused_label }));
    }
    return card;
  }

  // Her own card (issue 40): the check-in waiting for her OK first, with the button that
  // answers it as the chat's OK does; then when the next one comes and her last OK.
  function ownCard(member) {
    var card = el("section", { class: "card", id: "my-card", "aria-labelledby": "my-card-title" },
      el("h2", { id: "my-card-title", text: t("mypage40.card_title") }));
    var waiting = member.waiting;
    if (waiting) {
      var box = el("div", { id: "waiting", "data-kind": waiting.kind,
        class: waiting.kind === "asked" ? "notice" : "notice alert" },
        el("p", { text: t("mypage40.waiting_" + waiting.kind, { asked: waiting.asked }) }));
      box.append(el("button", { type: "button", id: "ok-button", class: "primary ok",
        text: t("mypage40.ok_button"), onclick: function (event) {
          event.target.disabled = true;
          api("POST", "/liff/api/me/ok", {}).then(function (answer) {
            reloadSaying(answer.said.join("\n"));
          }, function () { event.target.disabled = false; failed(); });
        } }));
      card.append(box);
    }
    if (member.blocked) card.append(el("p", { class: "alert", id: "blocked", text: t("mypage40.blocked") }));
    if (member.paused_label) {
      card.append(el("p", { class: "notice", id: "paused", text: member.paused_label }));
    }
    card.append(facts("member-card", [
      ["schedule", member.schedule], ["next", member.next], ["last_ok", member.last_ok],
      ["last_activity", member.last_activity]
    ]));
    return card;
  }

  function field(name, input) {
    input.id = "field-" + name;
    input.name = name;
    return el("div", {}, el("label", { for: input.id, text: t(name) }), input,
      el("p", { class: "field-error", id: "error-" + name, hidden: true }));
  }

  // A checkbox inside its label, the sentence beside the box: one thing to tap, read as one.
  function checkbox(input, sentence) {
    return el("label", { class: "check" }, input, el("span", { text: sentence }));
  }

  function personalForm(member) {
    var p = member.personal;
    var gender = el("select", {});
    ["blank", "female", "male", "other"].forEach(function (value) {
      var option = el("option", { value: value === "blank" ? "" : value, text: t("gender_" + value) });
      if ((p.gender || "") === (value === "blank" ? "" : value)) option.selected = true;
      gender.append(option);
    });
    // Who she is to the service (the number the desk asks for on the phone), then what she
    // may add.
    var form = el("form", { id: "personal-form" }, el("h2", { text: t("personal") }),
      facts("about-me", [["member_id", String(member.id), t("mypage40.member_id")],
        ["nickname", member.nickname], ["registered", member.registered]]),
      el("p", { class: "notice", text: t("optional_note") }),
      field("full_name", el("input", { type: "text", value: p.full_name, maxlength: "50", autocomplete: "name" })),
      field("furigana", el("input", { type: "text", value: p.furigana, maxlength: "50" })),
      field("gender", gender),
      field("birth_date", el("input", { type: "date", value: p.birth_date })),
      field("phone", el("input", { type: "tel", value: p.phone, maxlength: "20", autocomplete: "tel" })),
      field("address", el("input", { type: "text", value: p.address, maxlength: "100", autocomplete: "street-address" })),
      el("button", { type: "submit", class: "primary", text: t("save") }));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var payload = {};
      ["full_name", "furigana", "gender", "birth_date", "phone", "address"].forEach(function (name) {
        payload[name] = form.elements[name].value;
        document.getElementById("error-" + name).hidden = true;
      });
      // "Saved" once the page is drawn again: what she types next is not lost to the redraw.
      api("PUT", "/liff/api/me/personal", payload).then(function () {
        reloadSaying(t("saved"));
      }, function (problem) {
        var fields = (problem.data && problem.data.fields) || {};
        Object.keys(fields).forEach(function (name) {
          var box = document.getElementById("error-" + name);
          box.textContent = t("invalid_field");
          box.hidden = false;
        });
        failed();
      });
    });
    return form;
  }

  // 暑い日の確認 (issue 41): a checkbox with its sentence, where the city reads the alerts.
  function heatForm() {
    var form = el("form", { id: "heat-form", hidden: true });
    api("GET", "/liff/api/me/heat").then(function (data) {
      if (!data.offered) return;
      var box = el("input", { type: "checkbox", id: "heat-opt-in", name: "heat" });
      box.checked = data.opted_in;
      form.append(el("h2", { text: t("heat41.mypage_title") }),
        checkbox(box, t("heat41.mypage_check")),
        data.at_risk ? el("p", { class: "notice", text: t("heat41.at_risk") }) : null,
        el("button", { type: "submit", class: "primary", text: t("heat41.mypage_save") }));
      form.hidden = false;
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        api("PUT", "/liff/api/me/heat", { opted_in: box.checked }).then(function () {
          show(t(box.checked ? "heat41.turned_on" : "heat41.turned_off"), false);
        }, failed);
      });
    }, failed);
    return form;
  }

  function memoForm(member) {
    var memo = el("textarea", { rows: "5", maxlength: "1000" });
    memo.value = member.memo || "";
    var form = el("form", { id: "memo-form" }, el("h2", { text: t("memo_title") }),
      el("p", { class: "notice", text: t("memo_help") }), field("memo", memo),
      el("button", { type: "submit", class: "primary", text: t("memo_save") }));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      api("PUT", "/liff/api/me/memo", { memo: memo.value }).then(function () {
        show(t("saved"), false);
      }, failed);
    });
    return form;
  }

  // 電話での確認: her number and her consent to a call before the alert (where calls exist).
  // A number is hers only once she typed the code a call to it read out (care/verify.py).
  var VERIFY_ERRORS = ["invalid_phone", "number_abroad", "number_not_a_person", "nobody_watches",
    "too_often", "calls_spent", "no_number", "already_verified", "code_spent", "code_expired",
    "no_code"];
  // What guards the city's calls from strangers (issue 37): a number that is someone else's,
  // the month's verification calls spent.
  var GUARD_ERRORS = ["number_taken", "verify_month_spent"];

  // Draw the page again, then say what happened (drawing hides the status line).
  function reloadSaying(message) {
    api("GET", "/liff/api/me").then(function (me) { render(me); show(message, false); }, failed);
  }

  function callsProblem(problem) {
    var code = problem.message;
    if (code === "wrong_code") {
      show(t("verify.wrong_code", { left: (problem.data && problem.data.detail) || "0" }), true);
    } else if (VERIFY_ERRORS.indexOf(code) >= 0) {
      show(t("verify.error_" + code), true);
    } else if (GUARD_ERRORS.indexOf(code) >= 0) {
      show(t("guard.error_" + code), true);
    } else {
      failed();
    }
  }

  function callsForm(member) {
    var calls = member.calls;
    if (!calls || !calls.available) return null;
    var number = el("input", { type: "tel", value: calls.number || "", maxlength: "20", autocomplete: "tel" });
    var consent = el("input", { type: "checkbox", id: "field-call_before_alert" });
    consent.checked = calls.before_alert;
    var form = el("form", { id: "calls-form" },
      el("p", { class: "notice", text: t("calls_help") }),
      calls.watched ? null : el("p", { class: "notice", id: "calls-unwatched", text: t("verify.nobody_watches") }),
      field("call_number", number),
      checkbox(consent, t("call_before_alert")),
      el("button", { type: "submit", class: "primary", text: t("save") }));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      api("PUT", "/liff/api/me/calls", { number: number.value, before_alert: consent.checked })
        .then(function (answer) {
          reloadSaying(t(answer.calling ? "verify.calling" : "saved"));
        }, callsProblem);
    });
    if (!calls.number) return form;
    var state = el("p", { id: "call-verified", "data-verified": calls.verified ? "yes" : "no",
      text: t(calls.verified ? "verify.verified" : "verify.not_verified") });
    var box = el("div", { id: "call-verify" }, state);
    if (!calls.verified && calls.watched) {
      if (calls.code_waiting) {
        var code = el("input", { type: "text", id: "field-call_code", inputmode: "numeric", autocomplete: "one-time-code", maxlength: "8" });
        var check = el("button", { type: "button", class: "primary", text: t("verify.code_button") });
        check.addEventListener("click", function () {
          api("POST", "/liff/api/me/calls/code", { code: code.value }).then(function () {
            reloadSaying(t("verify.done"));
          }, callsProblem);
        });
        box.append(el("p", { class: "notice", text: t("verify.code_help") }),
          el("div", {}, el("label", { for: code.id, text: t("verify.code_label") }), code), check);
      }
      var again = el("button", { type: "button", id: "call-again", text: t("verify.call_button") });
      again.addEventListener("click", function () {
        api("POST", "/liff/api/me/calls/verify", {}).then(function () {
          reloadSaying(t("verify.calling"));
        }, callsProblem);
      });
      box.append(again);
    }
    form.append(box);
    return form;
  }

  // Devices: each one's secret URL is shown once, when it is made.
  function devicesBox(member) {
    var box = el("div", { id: "devices" }, el("p", { class: "notice", text: t("devices_help") }));
    var list = el("ul", {});
    (member.devices || []).forEach(function (device) {
      var remove = el("button", { type: "button", text: t("device_revoke") });
      remove.addEventListener("click", function () {
        if (!window.confirm(t("device_revoke_confirm"))) return;
        api("DELETE", "/liff/api/me/devices/" + device.id).then(reload, failed);
      });
      var meaning = t(device.counts_as_ok ? "device_answers" : "device_shows_only");
      list.append(el("li", {}, el("span", { text: device.label + "（" + meaning + "）" }), remove));
    });
    box.append(list);
    var label = el("input", { type: "text", maxlength: "30" });
    var answers = el("input", { type: "checkbox", id: "field-device_counts_as_ok" });
    var shown = el("p", { id: "device-url", role: "status" });
    var form = el("form", { id: "device-form" }, field("device_label", label),
      checkbox(answers, t("device_counts_as_ok")),
      el("button", { type: "submit", class: "primary", text: t("device_add") }), shown);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      api("POST", "/liff/api/me/devices", { label: label.value, counts_as_ok: answers.checked })
        .then(function (made) {
          shown.replaceChildren(el("span", { text: t("device_url") }), el("br", {}),
            el("code", { text: made.url }));
        }, failed);
    });
    box.append(form);
    return box;
  }

  function scheduleForm(member) {
    var interval = el("select", {});
    INTERVALS.forEach(function (days) {
      interval.append(el("option", { value: String(days), text: t("interval." + days),
        selected: member.interval_days === days }));
    });
    var hour = el("select", {});
    for (var h = 0; h < 24; h++) {
      hour.append(el("option", { value: String(h), text: t("hour." + h), selected: member.hour === h }));
    }
    var form = el("form", { id: "schedule-form" }, el("h2", { text: t("schedule_title") }),
      el("div", { class: "pair" }, field("interval", interval), field("hour", hour)),
      el("button", { type: "submit", class: "primary", text: t("schedule_save") }));
    if (member.interval_days !== null) {
      form.append(el("button", { type: "button", id: "stop", class: "danger", text: t("stop_button"),
        onclick: function () {
          if (!window.confirm(t("stop_confirm"))) return;
          askedFirst("/liff/api/me/stop", {});
        } }));
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      api("PUT", "/liff/api/me/schedule", {
        interval_days: Number(interval.value), hour: Number(hour.value)
      }).then(function () { reloadSaying(t("saved")); }, failed);
    });
    return form;
  }

  // A pause or a stop while an alert about her is open: she is asked first; the alert stays
  // open until someone who watches her is sure.
  function askedFirst(path, payload) {
    api("POST", path, payload).then(reload, function (problem) {
      if (problem.message !== "alert_open_confirm") return failed();
      if (!window.confirm(t("pause_alert_open"))) return;
      payload.alert_ok = true;
      api("POST", path, payload).then(reload, failed);
    });
  }

  function pauseForm(member) {
    var box = el("div", { id: "pause" }, el("h2", { text: t("pause_title") }));
    if (member.paused_until) {
      box.append(el("button", { type: "button", id: "resume", text: t("resume_button"), onclick: function () {
        api("POST", "/liff/api/me/resume", {}).then(reload, failed);
      } }));
      return box;
    }
    var until = el("input", { type: "date" });
    box.append(field("pause_until", until), el("button", { type: "button", id: "pause-button",
      text: t("pause_button"), onclick: function () {
        askedFirst("/liff/api/me/pause", { until: until.value });
      } }),
      el("button", { type: "button", id: "pause-until-home", text: t("pause_until_home"),
        onclick: function () {
          askedFirst("/liff/api/me/pause", { open_ended: true });
        } }));
    return box;
  }

  // Who is told when no OK comes, and what each of them sees of her (issue 40).
  function watchers(member) {
    var box = el("section", { id: "watchers", "aria-labelledby": "watchers-title" },
      el("h2", { id: "watchers-title", text: t("watchers_title") }));
    if (member.interval_days === null) box.append(el("p", { text: t("no_checkins") }));
    else if (!member.told.length) box.append(el("p", { class: "notice", text: t("nobody") }));
    else {
      var list = el("ul", { class: "told" });
      member.told.forEach(function (watcher) {
        list.append(el("li", {}, el("span", { class: "name", text: watcher.name }), el("br"),
          el("span", { class: "shown-state",
            text: t(watcher.shown ? "share_back.shown" : "share_back.not_shown") })));
      });
      box.append(el("p", { text: t("mypage40.told_intro") }), list,
        el("p", {}, el("a", { href: "/liff/teams", id: "told-change", text: t("mypage40.told_change") })));
    }
    return box;
  }

  // What few use (calls, devices): folded at the end, and kept open across a redraw.
  var openFolds = {};

  function fold(id, title, inside) {
    if (!inside) return null;
    var box = el("details", { id: id, class: "fold", open: Boolean(openFolds[id]) },
      el("summary", {}, el("h2", { text: title })), inside);
    box.addEventListener("toggle", function () { openFolds[id] = box.open; });
    return box;
  }

  function withdrawBox() {
    return el("div", { id: "withdraw" }, el("h2", { text: t("withdraw_title") }),
      el("p", { text: t("withdraw_note") }),
      el("p", { text: t("my_records.withdraw_note") }),
      el("button", { type: "button", class: "danger", text: t("withdraw_button"), onclick: function () {
        if (!window.confirm(t("withdraw_confirm"))) return;
        // Her LINE Login access token: the server revokes the app's authorization with it.
        var access = window.liff.getAccessToken ? window.liff.getAccessToken() : null;
        api("POST", "/liff/api/me/withdraw", { confirm: true, access_token: access }).then(function (done) {
          content.replaceChildren();
          // Said only as it happened: unlinked, or how she unlinks the app herself.
          show(t("withdrawn") + " " +
            t(done.line_unlinked ? "my_records.unlinked" : "my_records.unlink_yourself"), false);
        }, function (problem) {
          if (problem.message === "alert_open") show(t("withdraw_alert_open"), true);
          else failed();
        });
      } }));
  }

  // --- History: 30 days of answers, readable without colour (marks and words, not hues) ---
  var SVG = "http://www.w3.org/2000/svg";
  var MARKS = { unwell: "△", help: "!", none: "×", confirmed: "○", open: "…" };

  function svgEl(tag, attrs, text) {
    var node = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) node.textContent = text;
    return node;
  }

  function historyBox(memberId) {
    var box = el("div", { class: "card", id: "history" }, el("h2", { text: t("history_title") }));
    api("GET", "/liff/api/members/" + memberId + "/history").then(function (data) {
      if (!data.days.length) { box.append(el("p", { text: t("history_none") })); return; }
      box.append(historyChart(data.days), el("p", { class: "notice", text: t("history_help") }),
        dayList(data.days));
    }, failed);
    return box;
  }

  function historyChart(days) {
    var width = 300, height = 150, base = 120, slot = width / 30;
    // The picture is for the eye; the list below says the same, day by day, for a reader.
    var chart = svgEl("svg", { viewBox: "0 0 " + width + " " + height, "aria-hidden": "true",
      class: "history-chart" });
    chart.append(svgEl("line", { x1: 0, y1: base, x2: width, y2: base, stroke: "currentColor" }));
    days.forEach(function (day, index) {
      var x = index * slot + slot * 0.15;
      var group = svgEl("g", { class: "history-day", "data-answer": day.answer });
      group.append(svgEl("title", {}, dayWords(day)));
      if (day.minutes !== null) {
        // Square root: five minutes and five hours both show.
        var tall = Math.max(2, Math.sqrt(Math.min(day.minutes, 1440) / 1440) * (base - 10));
        group.append(svgEl("rect", { x: x, y: base - tall, width: slot * 0.7, height: tall,
          fill: "currentColor" }));
      }
      if (MARKS[day.answer]) {
        group.append(svgEl("text", { x: x + slot * 0.35, y: base + 14, "text-anchor": "middle",
          "font-size": "12", class: "history-mark" }, MARKS[day.answer]));
      }
      if (index % 7 === 0 || index === days.length - 1) {
        // The date axis: the first day, every week after it, and the last.
        group.append(svgEl("text", { x: x + slot * 0.35, y: base + 30, "text-anchor": "middle",
          "font-size": "10", class: "history-date" }, day.short));
      }
      chart.append(group);
    });
    return chart;
  }

  function dayWords(day) {
    return day.label + " " + t("answer_" + day.answer) +
      (day.minutes === null ? "" : " " + t("history_minutes", { minutes: day.minutes }));
  }

  function dayList(days) {
    var list = el("ul", { class: "history-days" });
    days.slice().reverse().forEach(function (day) {
      list.append(el("li", { text: dayWords(day) }));
    });
    return el("details", { id: "history-days" }, el("summary", { text: t("history_days") }), list);
  }

  // --- わたしの記録: everything held about her, as a page and as a file (issue 38) -----------
  function myRecordsBox() {
    var box = el("section", { id: "my-records", "aria-labelledby": "my-records-title" },
      el("h2", { id: "my-records-title", text: t("my_records.title") }),
      el("p", { text: t("my_records.intro") }));
    var shown = el("div", { id: "my-records-body" });
    box.append(el("button", { type: "button", id: "my-records-open", text: t("my_records.open_button"),
      onclick: function () {
        api("GET", "/liff/api/me/records").then(function (data) {
          shown.replaceChildren(recordView(data.record));
        }, failed);
      } }),
      el("button", { type: "button", id: "my-records-json", text: t("my_records.download_json"),
        onclick: function () { downloadRecord("json"); } }),
      el("button", { type: "button", id: "my-records-csv", text: t("my_records.download_csv"),
        onclick: function () { downloadRecord("csv"); } }),
      shown);
    return box;
  }

  function recordView(record) {
    var view = el("div", {}, el("p", { class: "notice",
      text: t("my_records.made_at", { when: record.made_at }) }));
    Object.keys(record.fields).forEach(function (name) {
      var rows = record.sections[name] || [];
      var section = el("section", { class: "record-section", "data-section": name },
        el("h3", { text: t("my_records.section." + name) }));
      if (!rows.length) {
        section.append(el("p", { text: t("my_records.empty") }));
      } else {
        var head = el("tr", {});
        record.fields[name].forEach(function (field) {
          head.append(el("th", { scope: "col", text: t("my_records.field." + field) }));
        });
        var table = el("table", { class: "record" }, el("thead", {}, head));
        var tbody = el("tbody", {});
        rows.forEach(function (row) {
          var line = el("tr", {});
          record.fields[name].forEach(function (field) {
            var value = row[field];
            // The profile's and schedule's item names are words, not codes.
            if (field === "field") value = t("my_records.field." + value);
            line.append(el("td", { "data-field": field, text: value }));
          });
          tbody.append(line);
        });
        table.append(tbody);
        section.append(el("div", { class: "table-scroll", tabindex: "0", role: "region",
          "aria-label": t("my_records.section." + name) }, table));
      }
      view.append(section);
    });
    if (record.withheld_notes) {
      view.append(el("p", { class: "notice", id: "my-records-withheld",
        text: t("my_records.withheld_notes", { count: String(record.withheld_notes) }) }));
    }
    return view;
  }

  // The file comes with her token, so it is fetched here and handed to the browser to save.
  function downloadRecord(kind) {
    fetch("/liff/api/me/records/download?format=" + kind, {
      headers: { Authorization: "Bearer " + token }
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.blob();
    }).then(function (blob) {
      var link = el("a", { href: URL.createObjectURL(blob), download: "mimamori-my-records." + kind });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(function () { URL.revokeObjectURL(link.href); }, 1000);
    }).catch(failed);
  }

  function languageForm() {
    // ことば: each language named in itself; the page reloads speaking the chosen one.
    var choice = el("select", {});
    Object.keys(languages).forEach(function (code) {
      choice.append(el("option", { value: code, text: languages[code], selected: code === currentLanguage }));
    });
    var form = el("form", { id: "language-form" }, el("h2", { text: t("language_title") }),
      field("language", choice), el("button", { type: "submit", text: t("language_save") }));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      api("PUT", "/liff/api/me/language", { language: choice.value }).then(function () {
        window.location.reload();
      }, failed);
    });
    return form;
  }

  // Her page in the order she needs it (issue 40): her card (and its OK while a check-in
  // waits), the schedule, a pause, who is told; then the rest; what few use, folded, last.
  function renderMyPage(member) {
    [el("h1", { text: t("title") }), ownCard(member), scheduleForm(member),
      member.interval_days !== null ? pauseForm(member) : null, watchers(member),
      historyBox(member.id), heatForm(), personalForm(member), memoForm(member), languageForm(),
      myRecordsBox(), withdrawBox(),
      fold("calls-fold", t("calls_title"), callsForm(member)),
      fold("devices-fold", t("devices_title"), devicesBox(member))
    ].forEach(function (part) { if (part) content.append(part); });
  }

  // --- Teams ------------------------------------------------------------------------------
  function renderTeams() {
    api("GET", "/liff/api/teams").then(function (data) {
      content.replaceChildren(el("h1", { text: t("teams_title") }));
      if (!data.teams.length) content.append(el("p", { text: t("no_teams") }));
      data.teams.forEach(function (team) { content.append(teamCard(team)); });
      if (data.teams.some(function (team) { return team.role === "manager"; })) {
        content.append(noteBox(data.daily_note));
      }
      content.append(createForm());
      // An alert's button opens the person's page straight away (#member-12).
      var wanted = /^#member-(\d+)$/.exec(window.location.hash);
      if (wanted) {
        history.replaceState(null, "", window.location.pathname + window.location.search);
        openMember(Number(wanted[1]));
      }
    }, failed);
  }

  function noteBox(everyDay) {
    // How a manager hears: every day's answers too, or only when something is wrong.
    var box = el("div", { class: "card", id: "daily-note" }, el("h3", { text: t("note_title") }),
      el("p", { text: t(everyDay ? "note_every_day" : "note_only_problems") }));
    box.append(el("button", { type: "button", id: "daily-note-toggle",
      text: t(everyDay ? "note_turn_off" : "note_turn_on"), onclick: function () {
        api("PUT", "/liff/api/me/daily_note", { every_day: !everyDay }).then(renderTeams, failed);
      } }));
    return box;
  }

  function teamCard(team) {
    var card = el("section", { class: "card team", "data-team": String(team.id) },
      el("h3", { text: team.name }),
      el("p", { text: t("role." + team.role) }));
    var list = el("ul", { class: "members" });
    team.members.forEach(function (member) {
      var item = el("li", { "data-member": String(member.id) },
        el("span", { text: member.name + (member.me ? " " + t("you") : "") + " - " + t("role." + member.role) }));
      if (member.last_ok !== undefined) {
        item.append(el("br"), el("span", { text: t("last_ok") + ": " + member.last_ok + " / " + member.state }));
        if (member.alert_open) item.append(el("p", { class: "alert", text: t("alert_open") }));
        item.append(el("button", { type: "button", text: t("view_page"), onclick: function () {
          openMember(member.id);
        } }));
      }
      if (member.watches_me) {
        // Her 「見せる」 is hers to take back (or give) here, while he keeps watching her.
        item.append(el("br"), el("span", { class: "shown-state",
          text: t(member.shown ? "share_back.shown" : "share_back.not_shown") }));
        item.append(el("button", { type: "button", class: "shown-toggle",
          text: t(member.shown ? "share_back.hide" : "share_back.show"), onclick: function () {
            if (member.shown && !window.confirm(t("share_back.hide_confirm").replace("{name}", member.name))) return;
            api("PUT", "/liff/api/managers/" + member.id + "/shown", { shown: !member.shown })
              .then(renderTeams, failed);
          } }));
        // 見守り, not 監視: the person may take a manager off watching them.
        item.append(el("button", { type: "button", class: "danger unwatch", text: t("unwatch"),
          onclick: function () {
            if (!window.confirm(t("unwatch_confirm").replace("{name}", member.name))) return;
            api("POST", "/liff/api/managers/" + member.id + "/stop", { confirm: true })
              .then(renderTeams, failed);
          } }));
      }
      list.append(item);
    });
    card.append(el("h3", { text: t("members") }), list);
    // A staff's area team shows its codes to its managers only (care.invites.may_hand_out).
    ["user", "manager"].forEach(function (role) {
      if (team.invites[role]) card.append(inviteBox(team, role));
    });
    card.append(el("button", { type: "button", class: "danger", text: t("leave"), onclick: function () {
      if (!window.confirm(t("leave_confirm"))) return;
      api("POST", "/liff/api/teams/" + team.id + "/leave", {}).then(renderTeams, failed);
    } }));
    return card;
  }

  function inviteBox(team, role) {
    var invite = team.invites[role];
    var text = el("textarea", { readonly: true, class: "invite-text", "data-role": role,
      "aria-label": t("invite_" + role) });
    text.value = invite.text;
    return el("div", { class: "invite", "data-role": role },
      el("h3", { text: t("invite_" + role) }),
      el("img", { class: "qr", src: invite.qr, alt: invite.code, "data-role": role }),
      el("a", { class: "button", href: invite.qr + "&download=1", download: "invite-" + role + ".png",
        text: t("download_qr") }),
      text,
      el("button", { type: "button", text: t("copy"), onclick: function () { copy(text); } }),
      el("button", { type: "button", text: t("rotate"), onclick: function () {
        if (!window.confirm(t("rotate_confirm"))) return;
        api("POST", "/liff/api/teams/" + team.id + "/rotate", { role: role }).then(renderTeams, failed);
      } }));
  }

  function copy(textarea) {
    var done = function () { show(t("copied"), false); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(textarea.value).then(done, function () { fallbackCopy(textarea, done); });
    } else {
      fallbackCopy(textarea, done);
    }
  }

  function fallbackCopy(textarea, done) {
    textarea.select();
    try { document.execCommand("copy"); done(); } catch (problem) { failed(); }
  }

  function createForm() {
    var name = el("input", { type: "text", maxlength: "30" });
    var role = el("select", {},
      el("option", { value: "user", text: t("as_user") }),
      el("option", { value: "manager", text: t("as_manager") }));
    var form = el("form", { id: "create-team" }, el("h2", { text: t("create_title") }),
      field("team_name", name), field("role_choice", role),
      el("button", { type: "submit", class: "primary", text: t("create_button") }));
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      api("POST", "/liff/api/teams", { name: name.value, role: role.value }).then(renderTeams, failed);
    });
    return form;
  }

  function openMember(memberId) {
    api("GET", "/liff/api/members/" + memberId).then(function (data) {
      content.replaceChildren(el("p", { class: "notice", text: t("read_only") }));
      if (data.member.alert_open && !data.member.own) {
        // The alert's actions and the note to the others are on her card, as in the chat.
        content.append(el("p", { class: "alert", id: "member-alert" },
          el("a", { class: "button primary", id: "member-alert-card",
            href: "/liff/card/" + data.member.id, text: t("mypage40.alert_card") })));
      }
      content.append(
        cardList(data.member),
        historyBox(memberId),
        el("button", { type: "button", text: t("back"), onclick: renderTeams }));
      window.scrollTo(0, 0);
    }, failed);
  }

  // --- Her card (issue 38): phone, address and 緊急時メモ, off the chat --------------------
  // The server decides what the caller may read (care/cards.py) and records each view; the
  // page only draws it. A stranger's answer is a 404 that says nothing of her.
  function renderCard() {
    var wanted = /\/card\/(\d+)\/?$/.exec(window.location.pathname);
    var path = "/liff/api/cards/" + (wanted ? wanted[1] : "0");
    api("GET", path).then(function (data) {
      texts = Object.assign(texts, data.texts);
      drawCard(data.card);
    }, function (problem) {
      texts = Object.assign(texts, (problem.data && problem.data.texts) || {});
      content.hidden = true;
      show(t(problem.status === 404 ? "card.not_found" : "failed"), true);
    });
  }

  function drawCard(card) {
    var name = { name: card.name };
    content.replaceChildren(el("h1", { text: t("card.title", name) }));
    content.append(facts("person-card", [["member_id", String(card.id), t("card.member_id")],
      ["last_ok", card.last_ok, t("card.last_ok")]]));
    if (card.alert_open) {
      content.append(el("p", { class: "alert", id: "card-alert", text: t("card.alert_open", name) }));
    }
    if (card.alert) content.append(alertActions(card));
    if (card.relation === "own") content.append(el("p", { class: "notice", text: t("card.own") }));
    if (!card.shown) {
      content.append(el("p", { class: "notice", id: "card-not-shown", text: t("card.not_shown", name) }));
    } else if (!card.details.length && !card.memo_later) {
      content.append(el("p", { class: "notice", id: "card-nothing", text: t("card.nothing", name) }));
    }
    var details = el("dl", { id: "card-details" });
    card.details.forEach(function (detail) {
      var label = el("dt", { text: t("card." + detail.field) });
      if (detail.sensitive) {
        label.append(" ", el("span", { class: "sensitive", text: "（" + t("card.sensitive") + "）" }));
      }
      var value = el("span", { class: detail.field === "emergency_memo" ? "value memo" : "value",
        "data-field": detail.field, text: detail.value });
      var cell = el("dd", {}, value);
      if (detail.field === "phone" && card.tel) {
        // One tap to call her: the alert's call button, here rather than in the chat.
        cell.append(el("a", { class: "button primary", id: "card-call", href: card.tel,
          text: t("card.call") }));
      }
      if (detail.sensitive) cell.append(el("p", { class: "notice", text: t("card.sensitive_note") }));
      details.append(el("div", { class: "fact" }, label, cell));
    });
    if (card.details.length) content.append(details);
    if (card.memo_later) {
      content.append(el("p", { class: "notice", id: "card-memo-later", text: t("card.memo_later", name) }));
    }
    if (card.relation === "partner") content.append(el("p", { class: "notice", text: t("card.partner") }));
    if (card.relation !== "own" && card.details.length) {
      content.append(el("p", { class: "notice", text: t("card.recorded") }));
    }
    if (card.member_page) {
      content.append(el("p", {}, el("a", { href: card.member_page, id: "card-member-page",
        text: t("card.member_page", name) })));
    }
  }

  // While an alert about her is open, a manager who watches her acts on it here as on the
  // alert itself (対応します first, 無事を確認しました), and writes the others a note; a note
  // never closes the alert. What the server said shows in place (role=status).
  function alertActions(card) {
    var said = el("p", { class: "notice", id: "card-alert-said", role: "status" });
    function act(payload) {
      payload.round = card.alert.round;
      api("POST", "/liff/api/cards/" + card.id + "/alert", payload).then(function (data) {
        said.textContent = data.said;
      }, function (problem) {
        said.textContent = (problem.data && problem.data.detail) || t("failed");
      });
    }
    var box = el("section", { id: "card-alert-actions" },
      el("button", { type: "button", class: "primary", id: "card-take", text: t("alert.take_button"),
        onclick: function () { act({ action: "take" }); } }),
      el("button", { type: "button", id: "card-safe", text: t("alert.safe_button"),
        onclick: function () { act({ action: "safe" }); } }));
    if (card.alert.others.length) {
      var note = el("textarea", { id: "card-note", maxlength: String(card.alert.note_max), rows: "3" });
      var form = el("form", { id: "card-note-form" },
        el("label", { for: "card-note", text: t("note.ask", { names: card.alert.others.join("、"),
          max: card.alert.note_max }) }),
        note,
        el("button", { type: "submit", text: t("note.button") }));
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        act({ action: "note", note: note.value });
      });
      box.append(form);
    }
    box.append(said);
    return box;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
