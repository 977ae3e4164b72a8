// Switchboard dashboard: a little progressive enhancement. Every page works
// without it; with it, the events list tails live and an event's pending
// deliveries refresh until they settle.
(function () {
  "use strict";

  // Copy a secret shown once.
  document.querySelectorAll("[data-copy]").forEach(function (b) {
    b.addEventListener("click", function () {
      var input = document.getElementById(b.getAttribute("data-copy"));
      input.select();
      if (navigator.clipboard) {
        navigator.clipboard.writeText(input.value).then(function () { b.textContent = "Copied"; });
      }
    });
  });

  // Ask before destructive actions.
  document.querySelectorAll("form[data-confirm]").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      if (!window.confirm(f.getAttribute("data-confirm"))) e.preventDefault();
    });
  });

  // Live tail of the events list (server-sent events).
  var tail = document.getElementById("tail");
  if (tail) {
    var source = null, count = 0;
    var status = document.getElementById("tail-status");
    var body = document.getElementById("events-body");
    var link = function (href, text) {
      var a = document.createElement("a");
      a.href = href;
      a.textContent = text;
      return a;
    };
    var cell = function (label, child) {
      var td = document.createElement("td");
      td.setAttribute("data-label", label);
      if (typeof child === "string") td.textContent = child; else td.appendChild(child);
      return td;
    };
    var stop = function () {
      if (source) source.close();
      source = null;
      tail.textContent = "Start live tail";
      tail.setAttribute("aria-pressed", "false");
      status.textContent = "";
    };
    tail.addEventListener("click", function () {
      if (source) { stop(); return; }
      source = new EventSource(tail.getAttribute("data-stream"));
      tail.textContent = "Stop live tail";
      tail.setAttribute("aria-pressed", "true");
      status.textContent = "Live: waiting for events…";
      source.addEventListener("event", function (m) {
        var e = JSON.parse(m.data);
        var empty = body.querySelector("tr.empty");
        if (empty) empty.remove();
        var tr = document.createElement("tr");
        tr.className = "new";
        tr.appendChild(cell("Time", e.Time.replace("T", " ").replace(/(\.\d+)?Z$/, "")));
        tr.appendChild(cell("Type", e.Type));
        tr.appendChild(cell("Resource", e.Link ? link(e.Link, e.Resource) : e.Resource));
        tr.appendChild(cell("Event", link("/dashboard/events/" + encodeURIComponent(e.ID), e.ID)));
        body.insertBefore(tr, body.firstChild);
        count++;
        status.textContent = "Live: " + count + " new event" + (count === 1 ? "" : "s");
      });
      source.addEventListener("error", function () {
        if (source && source.readyState === EventSource.CLOSED) {
          status.textContent = "Live tail stopped (signed out?)";
        }
      });
    });
  }

  // An event's deliveries: while one is pending, look again every 2 s.
  var deliveries = document.getElementById("deliveries");
  if (deliveries && deliveries.hasAttribute("data-pending")) {
    var tries = 0;
    var refresh = function () {
      tries++;
      fetch(window.location.pathname + window.location.search, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
        .then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById("deliveries");
          if (!fresh) return;
          var current = document.getElementById("deliveries");
          current.replaceWith(fresh);
          if (fresh.hasAttribute("data-pending") && tries < 90) setTimeout(refresh, 2000);
        })
        .catch(function () { if (tries < 90) setTimeout(refresh, 4000); });
    };
    setTimeout(refresh, 2000);
  }
})();
