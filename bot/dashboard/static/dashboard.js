// The Gremienbot's dashboard: an Element widget (Matrix widget API over postMessage).
//
// Plain JavaScript without a build step. Rules this file keeps, for the reviewer:
// - it talks only to the window that embeds it, at the origin of the `parentUrl` Element gives,
//   and ignores every message from another window or origin;
// - it asks for no widget capabilities, only for an OpenID token (MSC1960), which it trades at
//   the bot (api/session) for a short-lived bearer token kept in memory only;
// - every text from the server is inserted with textContent / createTextNode, never as HTML.
"use strict";

(function () {
  // The few words needed before the server's labels arrive (and when it refuses).
  var WORDS = {
    de: {
      title: "Gremienbot",
      open_in_element: "Bitte in Element öffnen",
      open_in_element_why:
        "Diese Seite ist die Übersicht des Gremienbots. Sie zeigt ihre Zahlen nur als " +
        "Widget in Element, neben dem Raum, nachdem Element Ihre Anmeldung bestätigt hat.",
      connecting: "Anmeldung über Element …",
      confirm: "Bitte bestätigen Sie in Element, dass die Übersicht Ihre Identität erfahren darf.",
      loading: "Die Zahlen werden geladen …",
      blocked:
        "Element hat die Anmeldung nicht erlaubt. Ohne bestätigte Identität zeigt die " +
        "Übersicht nichts.",
      no_answer: "Element antwortet nicht. Bitte laden Sie das Widget neu.",
      refused: "Die Anmeldung konnte nicht bestätigt werden. Bitte laden Sie das Widget neu.",
      forbidden: "Nur für die Koordination und den Vorsitz.",
      forbidden_why:
        "Die Übersicht zeigt nur, was Sie auch im Chat sehen dürfen: der Koordination alle " +
        "Gremien, dem Vorsitz die eigenen. Als Mitglied sehen Sie hier nichts.",
      too_many: "Zu viele Anmeldeversuche. Bitte versuchen Sie es in einigen Minuten erneut.",
      server: "Der Gremienbot ist gerade nicht erreichbar. Bitte versuchen Sie es später erneut.",
      retry: "Erneut versuchen",
    },
    en: {
      title: "Gremienbot",
      open_in_element: "Please open in Element",
      open_in_element_why:
        "This page is the Gremienbot's overview. It shows its figures only as a widget in " +
        "Element, beside the room, once Element has confirmed who you are.",
      connecting: "Signing in through Element …",
      confirm: "Please confirm in Element that the overview may learn your identity.",
      loading: "Loading the figures …",
      blocked:
        "Element did not allow the sign-in. Without a confirmed identity the overview shows " +
        "nothing.",
      no_answer: "Element does not answer. Please reload the widget.",
      refused: "The sign-in could not be confirmed. Please reload the widget.",
      forbidden: "Only for the coordinating office and chairs.",
      forbidden_why:
        "The overview shows only what you may also see in the chat: the coordinating office " +
        "every committee, a chair their own. As a member you see nothing here.",
      too_many: "Too many sign-in attempts. Please try again in a few minutes.",
      server: "The Gremienbot cannot be reached right now. Please try again later.",
      retry: "Try again",
    },
  };
  var SVG = "http://www.w3.org/2000/svg";
  // How long Element may take to answer a request that needs no user (ms).
  var ANSWER_TIMEOUT = 15000;
  // Overdue agreements shown before "show all".
  var OVERDUE_SHOWN = 10;

  var query = new URLSearchParams(window.location.search);
  var fragment = fragmentParams(window.location.hash);
  var lang = pickLanguage([fragment.get("lang")].concat(navigator.languages || [navigator.language]));
  var words = WORDS[lang];
  var widgetId = templated(query.get("widgetId")) || templated(fragment.get("widgetId"));
  var parentOrigin = originOf(query.get("parentUrl"));

  var state = {
    token: null, // the bot's bearer token: in memory only
    labels: {},
    overview: null,
    loggingIn: false,
    format: null,
  };
  var pending = {}; // requestId -> {resolve, reject, timer}
  var counter = 0;
  var openidRequestId = null;
  var openidWaiter = null;

  document.documentElement.lang = lang;
  applyTheme(fragment.get("theme"));
  var el = {
    title: document.getElementById("title"),
    meta: document.getElementById("meta"),
    refresh: document.getElementById("refresh"),
    status: document.getElementById("status"),
    main: document.getElementById("main"),
  };

  // ---------------------------------------------------------------- start

  if (window.parent === window || !widgetId || !parentOrigin) {
    showNotice("plain", words.open_in_element, words.open_in_element_why, false);
    return;
  }
  window.addEventListener("message", onMessage);
  el.refresh.addEventListener("click", function () {
    if (!state.token) return;
    loadOverview(true).catch(showFailure);
  });
  showStatus("connecting", words.connecting);
  // The client (waitForIframeLoad: false) starts the capability negotiation once the widget
  // says it has loaded; login starts when the client asks for capabilities.
  send("content_loaded", {}).catch(function () {
    // A client that waits for the iframe's load event answers with an error: fine, it asks
    // for capabilities on its own.
  });
  var capabilitiesTimer = window.setTimeout(startLogin, 5000);

  // ---------------------------------------------------------------- widget API

  function onMessage(event) {
    // Only the embedding client, at the origin it was announced with.
    if (event.source !== window.parent || event.origin !== parentOrigin) return;
    var message = event.data;
    if (!message || typeof message !== "object") return;
    if (typeof message.action !== "string" || typeof message.requestId !== "string") return;
    if (message.widgetId !== widgetId) return;
    if (message.api === "fromWidget" && message.response) {
      var waiting = pending[message.requestId];
      if (!waiting) return;
      delete pending[message.requestId];
      window.clearTimeout(waiting.timer);
      var response = message.response;
      if (response && typeof response === "object" && response.error) {
        waiting.reject(new Failure("protocol"));
      } else {
        waiting.resolve(response);
      }
    } else if (message.api === "toWidget" && !("response" in message)) {
      onRequest(message);
    }
  }

  function onRequest(request) {
    var data = request.data && typeof request.data === "object" ? request.data : {};
    switch (request.action) {
      case "capabilities":
        // Nothing but the OpenID token, which needs no capability: no dialog in Element.
        reply(request, { capabilities: [] });
        window.clearTimeout(capabilitiesTimer);
        startLogin();
        return;
      case "theme_change":
        applyTheme(data.name);
        reply(request, {});
        return;
      case "notify_capabilities":
      case "visibility":
      case "language_change":
        reply(request, {});
        return;
      case "supported_api_versions":
        reply(request, { supported_versions: ["0.0.1", "0.0.2"] });
        return;
      case "openid_credentials":
        if (openidWaiter && data.original_request_id === openidRequestId) {
          reply(request, {});
          var waiter = openidWaiter;
          openidWaiter = null;
          waiter(data);
        } else {
          reply(request, { error: { message: "No OpenID request is waiting" } });
        }
        return;
      default:
        reply(request, { error: { message: "Unsupported action: " + request.action } });
    }
  }

  function post(message) {
    window.parent.postMessage(message, parentOrigin);
  }

  function reply(request, response) {
    post({
      api: request.api,
      widgetId: request.widgetId,
      requestId: request.requestId,
      action: request.action,
      data: request.data,
      response: response,
    });
  }

  function send(action, data, onSent) {
    counter += 1;
    var requestId = "gremienbot-" + Date.now() + "-" + counter;
    return new Promise(function (resolve, reject) {
      pending[requestId] = {
        resolve: resolve,
        reject: reject,
        timer: window.setTimeout(function () {
          delete pending[requestId];
          reject(new Failure("no_answer"));
        }, ANSWER_TIMEOUT),
      };
      if (onSent) onSent(requestId);
      post({ api: "fromWidget", widgetId: widgetId, requestId: requestId, action: action, data: data });
    });
  }

  function askOpenId() {
    return send("get_openid", {}, function (id) {
      openidRequestId = id;
    }).then(function (response) {
      if (response.state === "allowed") return response;
      if (response.state === "blocked") throw new Failure("blocked");
      if (response.state !== "request") throw new Failure("protocol");
      // Element asks the user; the answer comes later as `openid_credentials`.
      showStatus("confirm", words.confirm);
      return new Promise(function (resolve) {
        openidWaiter = resolve;
      }).then(function (later) {
        if (later.state === "allowed") return later;
        throw new Failure("blocked");
      });
    });
  }

  // ---------------------------------------------------------------- login and data

  function startLogin() {
    if (state.loggingIn || state.token) return;
    state.loggingIn = true;
    showStatus("connecting", words.connecting);
    login()
      .then(function () {
        return loadOverview(false);
      })
      .catch(showFailure)
      .then(function () {
        state.loggingIn = false;
      });
  }

  function login() {
    return askOpenId().then(function (credentials) {
      if (typeof credentials.access_token !== "string" || typeof credentials.matrix_server_name !== "string") {
        throw new Failure("protocol");
      }
      return fetch("api/session", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({
          access_token: credentials.access_token,
          matrix_server_name: credentials.matrix_server_name,
        }),
        credentials: "omit",
        cache: "no-store",
      }).then(function (answer) {
        if (!answer.ok) throw failureOf(answer.status);
        return answer.json();
      }).then(function (session) {
        if (!session || typeof session.token !== "string") throw new Failure("server");
        state.token = session.token;
      });
    }, function (error) {
      throw error instanceof Failure ? error : new Failure("protocol");
    });
  }

  function api(path) {
    return fetch(path, {
      headers: { Authorization: "Bearer " + state.token },
      credentials: "omit",
      cache: "no-store",
    });
  }

  // The figures; a session that ended (at most an hour) is renewed through Element once.
  function loadOverview(again, renewed) {
    if (!again) showStatus("loading", words.loading);
    el.refresh.disabled = true;
    return api("api/overview?lang=" + encodeURIComponent(lang))
      .then(function (answer) {
        if (answer.status === 401 && !renewed) {
          state.token = null;
          showStatus("connecting", words.connecting);
          return login().then(function () {
            return loadOverview(false, true);
          });
        }
        if (!answer.ok) throw failureOf(answer.status);
        return answer.json().then(render, function () {
          throw new Failure("server");
        });
      })
      .then(function () {
        el.refresh.disabled = false;
      }, function (error) {
        el.refresh.disabled = false;
        throw error instanceof Failure ? error : new Failure("server");
      });
  }

  function Failure(code) {
    this.code = code;
  }

  function failureOf(status) {
    if (status === 401) return new Failure("refused");
    if (status === 403) return new Failure("forbidden");
    if (status === 429) return new Failure("too_many");
    return new Failure("server");
  }

  function showFailure(error) {
    var code = error instanceof Failure ? error.code : "server";
    var headline = {
      blocked: words.blocked,
      no_answer: words.no_answer,
      protocol: words.no_answer,
      refused: words.refused,
      forbidden: words.forbidden,
      too_many: words.too_many,
      server: words.server,
    }[code] || words.server;
    state.token = null;
    state.overview = null;
    el.main.hidden = true;
    el.main.replaceChildren();
    el.refresh.hidden = true;
    showNotice("error", headline, code === "forbidden" ? words.forbidden_why : "", code !== "forbidden");
    document.body.setAttribute("data-error", code);
  }

  // ---------------------------------------------------------------- status and notices

  function showStatus(name, text) {
    document.body.setAttribute("data-state", name);
    document.body.removeAttribute("data-error");
    el.status.className = "status";
    el.status.replaceChildren(node("p", "status-text", text));
  }

  function showNotice(name, headline, why, retry) {
    document.body.setAttribute("data-state", name);
    el.status.className = "status notice";
    var parts = [node("p", "notice-headline", headline)];
    if (why) parts.push(node("p", "notice-why", why));
    if (retry) {
      var button = node("button", "retry", words.retry);
      button.type = "button";
      button.addEventListener("click", function () {
        state.loggingIn = false;
        startLogin();
      });
      parts.push(button);
    }
    el.status.replaceChildren.apply(el.status, parts);
  }

  // ---------------------------------------------------------------- rendering

  function render(overview) {
    state.overview = overview;
    state.labels = overview.labels && typeof overview.labels === "object" ? overview.labels : {};
    var shownLang = overview.lang === "en" || overview.lang === "de" ? overview.lang : lang;
    document.documentElement.lang = shownLang;
    state.format = formats(shownLang);
    var format = state.format;

    el.title.textContent = t("title");
    document.title = t("title");
    var user = overview.user || {};
    var role = user.role === "coordination" ? t("role_coordination") : t("role_chair");
    var meta = [t("signed_in", { user: text(user.user_id), role: role })];
    var when = overview.generated_text || (overview.generated ? format.dateTime(overview.generated) : "");
    if (when) meta.push(t("generated", { time: text(when) }));
    el.meta.textContent = meta.join(" · ");
    el.refresh.textContent = t("refresh");
    el.refresh.hidden = false;

    var committees = list(overview.committees);
    var sections = [
      committeesSection(committees, overview.totals, overview.period, format),
      overdueSection(list(overview.overdue)),
      overlapsSection(list(overview.overlaps), number(overview.overlaps_more)),
      pulseSection(list(overview.pulses), format),
      evaluationSection(overview.evaluation, format),
    ];
    if (list(overview.meetings).length) sections.push(meetingsSection(list(overview.meetings)));
    if (list(overview.circulations).length) {
      sections.push(circulationsSection(list(overview.circulations)));
    }
    sections.push(exportsSection(list(overview.exports), committees, user.role));

    el.main.replaceChildren.apply(el.main, sections.filter(Boolean));
    el.main.hidden = false;
    el.status.className = "status";
    el.status.replaceChildren();
    document.body.setAttribute("data-state", "ready");
    document.body.removeAttribute("data-error");
  }

  function section(id, headingKey, values) {
    var box = node("section", "card");
    box.id = id;
    var heading = node("h2", null, t(headingKey, values).trim());
    heading.id = id + "-heading";
    box.setAttribute("aria-labelledby", heading.id);
    box.appendChild(heading);
    return box;
  }

  function committeesSection(committees, totals, period, format) {
    var box = section("committees", "committees");
    if (!committees.length) {
      box.appendChild(node("p", "empty", t("committees_none")));
      return box;
    }
    if (period && period.label) {
      box.appendChild(node("p", "intro", t("figures_note", { period: text(period.label) })));
    }
    var wrap = node("div", "table-wrap");
    var table = node("table", "figures committees-table");
    table.appendChild(head([
      [t("committee"), "name"],
      [t("open"), "num"],
      [t("overdue"), "num"],
      [t("done_on_time"), "num"],
      [t("punctuality"), "num optional"],
      [t("trend"), "spark-cell"],
    ]));
    var body = node("tbody");
    committees.forEach(function (c) {
      var row = figuresRow(c, format);
      row.setAttribute("data-room", text(c.room_id));
      var sparkCell = node("td", "spark-cell");
      sparkCell.appendChild(spark(c, format));
      row.appendChild(sparkCell);
      body.appendChild(row);
    });
    table.appendChild(body);
    if (totals && typeof totals === "object" && committees.length > 1) {
      var foot = node("tfoot");
      var total = figuresRow(Object.assign({ name: t("total"), lines: [] }, totals), format);
      total.appendChild(node("td", "spark-cell"));
      foot.appendChild(total);
      table.appendChild(foot);
    }
    wrap.appendChild(table);
    box.appendChild(wrap);
    var legend = node("p", "legend");
    legend.appendChild(document.createTextNode(t("legend_trend") + " "));
    legend.appendChild(legendItem("open", t("legend_open")));
    legend.appendChild(document.createTextNode(" "));
    legend.appendChild(legendItem("overdue", t("legend_overdue")));
    box.appendChild(legend);
    return box;
  }

  // A committee's (or all committees') figures: name, open, overdue, on time, share.
  function figuresRow(c, format) {
    var row = node("tr");
    var name = node("th", "name");
    name.scope = "row";
    var lines = list(c.lines);
    if (lines.length) {
      var details = node("details");
      details.appendChild(node("summary", null, text(c.name)));
      var ul = node("ul", "lines");
      lines.forEach(function (line) {
        ul.appendChild(node("li", null, text(line)));
      });
      details.appendChild(ul);
      name.appendChild(details);
    } else {
      name.textContent = text(c.name);
    }
    row.appendChild(name);
    row.appendChild(numberCell(format.integer(c.open), "open", t("open")));
    var overdueKind = number(c.overdue) > 0 ? "overdue warn" : "overdue";
    row.appendChild(numberCell(format.integer(c.overdue), overdueKind, t("overdue")));
    row.appendChild(numberCell(format.integer(c.done_on_time), "done", t("done_on_time")));
    var share = c.punctuality_text || (c.punctuality === null || c.punctuality === undefined ? "–" : format.percent(c.punctuality));
    row.appendChild(numberCell(text(share), "punctuality optional", t("punctuality")));
    return row;
  }

  // A figure's cell; its column's name goes with it where a narrow widget drops the header.
  function numberCell(shown, kind, label) {
    var cell = node("td", "num " + kind, shown);
    cell.setAttribute("data-kind", kind.split(" ")[0]);
    cell.setAttribute("data-label", label);
    return cell;
  }

  // A line's colour and its name, kept together on one line.
  function legendItem(kind, label) {
    var item = node("span", "legend-item");
    var mark = node("span", "swatch swatch-" + kind);
    mark.setAttribute("aria-hidden", "true");
    item.appendChild(mark);
    item.appendChild(document.createTextNode(label));
    return item;
  }

  // A spark line: open and overdue per month, on one scale.
  function spark(committee, format) {
    var points = list(committee.spark);
    var width = 120;
    var height = 30;
    var pad = 3;
    // Stretched, not scaled, where the widget is narrow (dashboard.css): the lines keep their width.
    var svg = svgNode("svg", { class: "spark", viewBox: "0 0 " + width + " " + height, width: width, height: height, preserveAspectRatio: "none", role: "img", focusable: "false" });
    if (points.length < 2) {
      svg.setAttribute("aria-hidden", "true");
      return svg;
    }
    var top = 1;
    points.forEach(function (p) {
      top = Math.max(top, number(p.open), number(p.overdue));
    });
    var step = (width - 2 * pad) / (points.length - 1);
    function line(key, cls) {
      var coords = points.map(function (p, i) {
        var x = pad + i * step;
        var y = height - pad - (number(p[key]) / top) * (height - 2 * pad);
        return x.toFixed(1) + "," + y.toFixed(1);
      });
      svg.appendChild(svgNode("polyline", { class: cls, points: coords.join(" ") }));
      var last = coords[coords.length - 1].split(",");
      svg.appendChild(svgNode("circle", { class: cls + "-dot", cx: last[0], cy: last[1], r: 2.2 }));
    }
    line("open", "spark-open");
    line("overdue", "spark-overdue");
    var first = points[0];
    var last = points[points.length - 1];
    var label = t("spark_label", {
      committee: text(committee.name),
      first: format.month(first.month),
      last: format.month(last.month),
      open_first: number(first.open),
      open_last: number(last.open),
      overdue_first: number(first.overdue),
      overdue_last: number(last.overdue),
    });
    svg.setAttribute("aria-label", label);
    var title = svgNode("title", {});
    title.textContent = label;
    svg.insertBefore(title, svg.firstChild);
    return svg;
  }

  function overdueSection(items) {
    var box = section("overdue", "overdue_items");
    if (!items.length) {
      box.appendChild(node("p", "empty", t("overdue_none")));
      return box;
    }
    var wrap = node("div", "table-wrap");
    var table = node("table", "overdue-table stack");
    var columns = [
      [t("committee"), "committee"],
      [t("number"), "num"],
      [t("agreement"), "text"],
      [t("office"), "who"],
      [t("due"), "due"],
      [t("reason"), "reason"],
    ];
    table.appendChild(head(columns));
    var body = node("tbody");
    items.forEach(function (item) {
      var row = node("tr");
      var given = item.reason_given === undefined ? Boolean(item.reason) : Boolean(item.reason_given);
      var cells = [
        [text(item.committee), "committee"],
        ["#" + text(item.number), "num"],
        [text(item.text), "text"],
        [text(item.who), "who"],
        [text(item.due_text || item.due), "due"],
        [text(item.reason), given ? "reason" : "reason none"],
      ];
      cells.forEach(function (cell, i) {
        var td = node("td", cell[1], cell[0]);
        td.setAttribute("data-label", columns[i][0]);
        row.appendChild(td);
      });
      body.appendChild(row);
    });
    table.appendChild(body);
    wrap.appendChild(table);
    box.appendChild(wrap);
    // The longest overdue first; the rest one click away, so the page stays a page.
    var rows = Array.prototype.slice.call(body.rows, OVERDUE_SHOWN);
    if (rows.length) {
      rows.forEach(function (row) {
        row.hidden = true;
      });
      var more = node("button", "more", t("overdue_all", { count: items.length }));
      more.type = "button";
      more.addEventListener("click", function () {
        rows.forEach(function (row) {
          row.hidden = false;
        });
        more.remove();
      });
      box.appendChild(more);
    }
    return box;
  }

  function overlapsSection(overlaps, more) {
    var box = section("overlaps", "overlaps");
    if (!overlaps.length) {
      box.appendChild(node("p", "empty", t("overlaps_none")));
      return box;
    }
    box.appendChild(node("p", "intro", t("overlaps_intro")));
    var ul = node("ul", "overlaps");
    overlaps.forEach(function (overlap) {
      var li = node("li");
      var texts = list(overlap.texts);
      var committees = list(overlap.committees);
      var numbers = list(overlap.numbers);
      texts.forEach(function (agreement, i) {
        var side = node("span", "side");
        side.appendChild(node("span", "committee-tag", text(committees[i])));
        if (numbers[i] !== undefined) side.appendChild(node("span", "muted", "#" + text(numbers[i]) + " "));
        side.appendChild(node("q", null, text(agreement)));
        li.appendChild(side);
      });
      ul.appendChild(li);
    });
    box.appendChild(ul);
    if (more > 0) box.appendChild(node("p", "muted", t("overlaps_more", { count: more })));
    return box;
  }

  function pulseSection(pulses, format) {
    var box = section("pulse", "pulse");
    if (!pulses.length) {
      box.appendChild(node("p", "empty", t("pulse_none")));
      return box;
    }
    box.appendChild(node("p", "intro", t("pulse_intro")));
    var figure = node("figure", "chart");
    figure.appendChild(pulseChart(pulses, format));
    box.appendChild(figure);
    box.appendChild(asTable([t("month"), t("mean"), t("votes")], pulses.map(function (p) {
      return [format.month(p.month), meanText(p, format), format.integer(p.answers)];
    })));
    return box;
  }

  function meanText(item, format) {
    return item.mean_text ? text(item.mean_text) : format.decimal(item.mean);
  }

  // Bars of the monthly mean on the 1–5 scale, the value above each bar.
  function pulseChart(pulses, format) {
    var width = 640;
    var height = 200;
    var left = 28;
    var right = 8;
    var top = 18;
    var bottom = 26;
    var plotH = height - top - bottom;
    var slot = (width - left - right) / pulses.length;
    var bar = Math.min(36, slot * 0.62);
    var last = pulses[pulses.length - 1];
    var label = t("pulse_label", {
      first: format.month(pulses[0].month),
      last: format.month(last.month),
      mean: meanText(last, format),
    });
    var svg = svgNode("svg", { class: "chart-svg", viewBox: "0 0 " + width + " " + height, role: "img", focusable: "false", "aria-label": label });
    var title = svgNode("title", {});
    title.textContent = label;
    svg.appendChild(title);
    function y(value) {
      return top + plotH - ((value - 1) / 4) * plotH;
    }
    for (var v = 1; v <= 5; v += 1) {
      svg.appendChild(svgNode("line", { class: "grid", x1: left, x2: width - right, y1: y(v), y2: y(v) }));
      var tick = svgNode("text", { class: "axis", x: left - 8, y: y(v) + 4, "text-anchor": "end" });
      tick.textContent = String(v);
      svg.appendChild(tick);
    }
    pulses.forEach(function (p, i) {
      var mean = Math.max(1, Math.min(5, number(p.mean)));
      var x = left + i * slot + (slot - bar) / 2;
      var barTop = y(mean);
      svg.appendChild(svgNode("rect", { class: "bar", x: x.toFixed(1), y: barTop.toFixed(1), width: bar.toFixed(1), height: Math.max(1, y(1) - barTop).toFixed(1), rx: 2 }));
      var value = svgNode("text", { class: "value", x: (x + bar / 2).toFixed(1), y: (barTop - 4).toFixed(1), "text-anchor": "middle" });
      value.textContent = meanText(p, format);
      svg.appendChild(value);
      var month = svgNode("text", { class: "axis", x: (x + bar / 2).toFixed(1), y: height - 8, "text-anchor": "middle" });
      month.textContent = format.monthShort(p.month);
      svg.appendChild(month);
    });
    return svg;
  }

  function evaluationSection(evaluation, format) {
    var statements = evaluation ? list(evaluation.statements) : [];
    var box = section("evaluation", "evaluation", { year: evaluation ? text(evaluation.year) : "" });
    if (!evaluation || !statements.length) {
      box.appendChild(node("p", "empty", t("evaluation_none")));
      return box;
    }
    if (evaluation.invited) {
      var rate = evaluation.response_rate_text || format.percent(evaluation.response_rate);
      box.appendChild(node("p", "intro", t("participation", {
        participated: number(evaluation.participated),
        invited: number(evaluation.invited),
        rate: text(rate),
      })));
    }
    var ul = node("ul", "statements");
    statements.forEach(function (s) {
      var li = node("li", "statement");
      li.appendChild(node("span", "statement-text", text(s.text)));
      var row = node("span", "statement-row");
      var mean = Math.max(1, Math.min(5, number(s.mean)));
      var svg = svgNode("svg", { class: "meter", viewBox: "0 0 200 12", preserveAspectRatio: "none", "aria-hidden": "true", focusable: "false" });
      svg.appendChild(svgNode("rect", { class: "meter-track", x: 0, y: 0, width: 200, height: 12, rx: 3 }));
      svg.appendChild(svgNode("rect", { class: "meter-fill", x: 0, y: 0, width: ((mean - 1) / 4 * 200).toFixed(1), height: 12, rx: 3 }));
      row.appendChild(svg);
      row.appendChild(node("span", "statement-figures", t("statement_figures", {
        mean: meanText(s, format),
        agreement: s.agreement_text ? text(s.agreement_text) : format.percent(s.agreement),
        answers: number(s.answers),
      })));
      li.appendChild(row);
      ul.appendChild(li);
    });
    box.appendChild(ul);
    box.appendChild(asTable([t("statement"), t("mean"), t("agreement_share"), t("answers")], statements.map(function (s) {
      return [
        text(s.text),
        meanText(s, format),
        s.agreement_text ? text(s.agreement_text) : format.percent(s.agreement),
        format.integer(s.answers),
      ];
    })));
    return box;
  }

  function meetingsSection(meetings) {
    var box = section("meetings", "meetings");
    var ul = node("ul", "plain-list");
    meetings.forEach(function (m) {
      var li = node("li");
      li.appendChild(node("strong", null, text(m.committee)));
      li.appendChild(document.createTextNode(" – " + text(m.when_text || m.when)));
      ul.appendChild(li);
    });
    box.appendChild(ul);
    return box;
  }

  function circulationsSection(circulations) {
    var box = section("circulations", "circulations");
    var ul = node("ul", "plain-list");
    circulations.forEach(function (c) {
      var li = node("li");
      li.appendChild(node("strong", null, text(c.committee)));
      li.appendChild(document.createTextNode(" – " + text(c.title)));
      if (c.ends_text) li.appendChild(node("span", "muted", " (" + t("circulation_ends", { when: text(c.ends_text) }) + ")"));
      ul.appendChild(li);
    });
    box.appendChild(ul);
    return box;
  }

  function exportsSection(exports, committees, role) {
    if (!exports.length) return null;
    var box = section("exports", "exports");
    box.appendChild(node("p", "intro", t("exports_intro")));
    var controls = node("div", "export-controls");
    var labelEl = node("label", "scope-label", t("export_scope"));
    labelEl.htmlFor = "export-scope";
    var select = node("select");
    select.id = "export-scope";
    // A chair exports their own committees one by one; the coordination all of them at once.
    if (role === "coordination") {
      var all = node("option", null, t("export_all"));
      all.value = "all";
      select.appendChild(all);
    }
    committees.forEach(function (c) {
      var option = node("option", null, text(c.name));
      option.value = text(c.room_id);
      select.appendChild(option);
    });
    controls.appendChild(labelEl);
    controls.appendChild(select);
    box.appendChild(controls);
    var buttons = node("div", "export-buttons");
    var result = node("p", "export-result");
    result.setAttribute("role", "status");
    result.setAttribute("aria-live", "polite");
    exports.forEach(function (x) {
      var button = node("button", "export", text(x.label));
      button.type = "button";
      button.setAttribute("data-format", text(x.format));
      button.addEventListener("click", function () {
        download(text(x.format), text(x.label), select.value, button, result);
      });
      buttons.appendChild(button);
    });
    box.appendChild(buttons);
    box.appendChild(result);
    return box;
  }

  function download(format, label, room, button, result) {
    button.disabled = true;
    result.className = "export-result";
    result.textContent = t("export_busy", { label: label });
    var path = "api/export?format=" + encodeURIComponent(format) + "&room=" + encodeURIComponent(room);
    api(path)
      .then(function (answer) {
        if (!answer.ok) throw failureOf(answer.status);
        var name = fileName(answer.headers.get("Content-Disposition"), format);
        return answer.blob().then(function (blob) {
          var url = URL.createObjectURL(blob);
          var link = document.createElement("a");
          link.href = url;
          link.download = name;
          link.hidden = true;
          document.body.appendChild(link);
          link.click();
          link.remove();
          window.setTimeout(function () {
            URL.revokeObjectURL(url);
          }, 60000);
          result.textContent = t("export_saved", { file: name });
        });
      })
      .catch(function () {
        result.className = "export-result failed";
        result.textContent = t("export_failed", { label: label });
      })
      .then(function () {
        button.disabled = false;
      });
  }

  // ---------------------------------------------------------------- helpers

  function fileName(disposition, format) {
    var fallback = "gremienbot." + format.replace(/[^a-z0-9]/gi, "");
    if (!disposition) return fallback;
    var star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition);
    var plainName = /filename\s*=\s*"([^"]+)"/i.exec(disposition) || /filename\s*=\s*([^;]+)/i.exec(disposition);
    var name = null;
    try {
      name = star ? decodeURIComponent(star[1].trim()) : plainName ? plainName[1].trim() : null;
    } catch (e) {
      name = plainName ? plainName[1].trim() : null;
    }
    // Only a file's name, never a path.
    name = name ? name.replace(/[\\/]/g, "_").replace(/^\.+/, "") : "";
    return name || fallback;
  }

  function asTable(headers, rows) {
    var details = node("details", "as-table");
    details.appendChild(node("summary", null, t("as_table")));
    var wrap = node("div", "table-wrap");
    var table = node("table", "figures");
    table.appendChild(head(headers.map(function (h, i) {
      return [h, i === 0 ? "name" : "num"];
    })));
    var body = node("tbody");
    rows.forEach(function (cells) {
      var row = node("tr");
      cells.forEach(function (cell, i) {
        if (i === 0) {
          var th = node("th", "name", cell);
          th.scope = "row";
          row.appendChild(th);
        } else {
          row.appendChild(node("td", "num", cell));
        }
      });
      body.appendChild(row);
    });
    table.appendChild(body);
    wrap.appendChild(table);
    details.appendChild(wrap);
    return details;
  }

  function head(columns) {
    var thead = node("thead");
    var row = node("tr");
    columns.forEach(function (column) {
      var th = node("th", column[1], column[0]);
      th.scope = "col";
      row.appendChild(th);
    });
    thead.appendChild(row);
    return thead;
  }

  // An element with a class and, optionally, its text: the only way text enters the page.
  function node(tag, className, content) {
    var element = document.createElement(tag);
    if (className) element.className = className;
    if (content !== undefined && content !== null) element.textContent = String(content);
    return element;
  }

  function svgNode(tag, attributes) {
    var element = document.createElementNS(SVG, tag);
    Object.keys(attributes).forEach(function (name) {
      element.setAttribute(name, String(attributes[name]));
    });
    return element;
  }

  // A label from the server's catalogue, filled in as plain text: `{name}` takes the value
  // (a number written as the language writes it), a plural field `{name|one|other}` or
  // `{name|zero|one|other}` the form that agrees with the count, `#` standing for it, as
  // commands/core/rich.py does for the chat.
  function t(key, values) {
    var template = Object.prototype.hasOwnProperty.call(state.labels, key) ? String(state.labels[key]) : key;
    values = values || {};
    template = template.replace(/\{(\w+)\|([^{}]*)\}/g, function (whole, name, forms) {
      if (!Object.prototype.hasOwnProperty.call(values, name)) return whole;
      var options = forms.split("|");
      if (options.length !== 2 && options.length !== 3) return whole;
      var count = Number(values[name]);
      var chosen = options.length === 3 && count === 0 ? options[0] : count === 1 ? options[options.length - 2] : options[options.length - 1];
      return chosen.replace(/#/g, "{" + name + "}");
    });
    return template.replace(/\{(\w+)\}/g, function (whole, name) {
      if (!Object.prototype.hasOwnProperty.call(values, name)) return whole;
      var value = values[name];
      return typeof value === "number" && state.format ? state.format.integer(value) : text(value);
    });
  }

  function text(value) {
    return value === null || value === undefined ? "" : String(value);
  }

  function number(value) {
    var n = Number(value);
    return isFinite(n) ? n : 0;
  }

  function list(value) {
    return Array.isArray(value) ? value : [];
  }

  function formats(language) {
    var locale = language === "en" ? "en-GB" : "de-DE";
    var integer = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
    var decimal = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    var percent = new Intl.NumberFormat(locale, { style: "percent", maximumFractionDigits: 0 });
    var month = new Intl.DateTimeFormat(locale, { month: "long", year: "numeric", timeZone: "UTC" });
    var monthShort = new Intl.DateTimeFormat(locale, { month: "short", timeZone: "UTC" });
    var dateTime = new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeStyle: "short" });
    function monthDate(value) {
      var m = /^(\d{4})-(\d{2})/.exec(text(value));
      return m ? new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1)) : null;
    }
    return {
      integer: function (v) {
        return integer.format(number(v));
      },
      decimal: function (v) {
        return decimal.format(number(v));
      },
      percent: function (v) {
        return percent.format(number(v));
      },
      month: function (v) {
        var d = monthDate(v);
        return d ? month.format(d) : text(v);
      },
      monthShort: function (v) {
        var d = monthDate(v);
        return d ? monthShort.format(d) : text(v);
      },
      dateTime: function (v) {
        var d = new Date(text(v));
        return isNaN(d.getTime()) ? text(v) : dateTime.format(d);
      },
    };
  }

  function fragmentParams(hash) {
    var at = hash.indexOf("?");
    return new URLSearchParams(at >= 0 ? hash.slice(at + 1) : "");
  }

  // A template variable Element did not fill in ("$matrix_widget_id") is no value.
  function templated(value) {
    return value && value.charAt(0) !== "$" ? value : null;
  }

  // Element's theme ("light", "dark", "light-high-contrast", …) as light or dark.
  function applyTheme(name) {
    var theme = templated(typeof name === "string" ? name : null);
    if (!theme) return;
    document.documentElement.setAttribute("data-theme", /dark/i.test(theme) ? "dark" : "light");
  }

  function originOf(url) {
    if (!url) return null;
    try {
      var parsed = new URL(url);
      if (parsed.protocol !== "https:" && parsed.protocol !== "http:") return null;
      return parsed.origin;
    } catch (e) {
      return null;
    }
  }

  function pickLanguage(candidates) {
    for (var i = 0; i < candidates.length; i += 1) {
      var code = text(candidates[i]).toLowerCase();
      if (code.charAt(0) === "$") continue;
      if (code.slice(0, 2) === "de") return "de";
      if (code.slice(0, 2) === "en") return "en";
    }
    return "de";
  }
})();
