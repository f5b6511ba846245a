/* warmheart planner page: start a planning job from the uploads, follow it, show its result.
 *
 * The form posts multipart/form-data to /api/planner/jobs with the bearer token (kept in
 * sessionStorage for the tab); the job runs on the server and this script polls its status
 * once a second. On a reload the current job is fetched again, so progress survives it.
 * Every text shown comes from the page's messages (its language) or from the server as
 * text (never as HTML).
 */
(function () {
  "use strict";
  var form = document.getElementById("wh-plan-form");
  if (!form) return;
  var msgs = JSON.parse(document.getElementById("wh-plan-messages").textContent || "{}");
  var box = document.getElementById("wh-job");
  var bar = document.getElementById("wh-progress");
  var stage = document.getElementById("wh-job-stage");
  var errorBox = document.getElementById("wh-job-error");
  var done = document.getElementById("wh-job-done");
  var link = document.getElementById("wh-job-link");
  var run = document.getElementById("wh-run");
  var token = document.getElementById("wh-token");
  var lang = form.getAttribute("data-lang");
  var timer = null;

  function m(key) {
    return msgs[key] || key;
  }

  try {
    token.value = sessionStorage.getItem("wh-token") || "";
  } catch (e) {
    /* storage blocked: type it each time */
  }

  function withLang(url) {
    return url + (url.indexOf("?") < 0 ? "?" : "&") + "lang=" + encodeURIComponent(lang);
  }

  function showError(text) {
    box.hidden = false;
    errorBox.hidden = false;
    errorBox.textContent = text;
    run.disabled = false;
  }

  function render(job) {
    box.hidden = false;
    errorBox.hidden = true;
    bar.value = job.progress || 0;
    var what = m("stage." + job.stage);
    if (job.wave) what += " · " + job.wave;
    if (job.state === "running" || job.state === "queued") {
      what += " · " + Math.round(job.elapsed_s) + " / " + Math.round(job.budget_s) + " s";
    }
    stage.textContent = what;
    document.documentElement.setAttribute("data-wh-job", job.state);
    if (job.state === "done") {
      var s = job.summary || {};
      stage.textContent =
        m("stage.done") + " · " + s.buses + " " + m("plan.buses") + ", " + s.trips + " " + m("plan.trips");
      done.hidden = false;
      link.href = withLang(job.result_url);
      run.disabled = false;
    } else if (job.state === "failed") {
      showError(m("plan.error_failed") + " " + (job.error || ""));
    } else {
      run.disabled = true;
    }
  }

  function poll(url) {
    clearTimeout(timer);
    fetch(url, { headers: { Accept: "application/json" } })
      .then(function (r) {
        return r.json().then(function (body) {
          return { status: r.status, body: body, retry: r.headers.get("Retry-After") };
        });
      })
      .then(function (res) {
        if (res.status === 429) {
          // The client's CPU budget is spent (a large upload costs some): ask again later.
          var wait = Math.min(60, Math.max(1, parseInt(res.retry, 10) || 5));
          timer = setTimeout(function () {
            poll(url);
          }, wait * 1000);
          return;
        }
        if (res.status !== 200) return;
        render(res.body);
        if (res.body.state === "queued" || res.body.state === "running") {
          timer = setTimeout(function () {
            poll(url);
          }, 1000);
        }
      })
      .catch(function () {
        timer = setTimeout(function () {
          poll(url);
        }, 3000);
      });
  }

  var statusText = {
    400: "plan.error_input",
    401: "plan.error_token",
    403: "plan.writes_off",
    409: "plan.error_busy",
    413: "plan.error_too_large",
    415: "plan.error_input",
    429: "plan.error_busy",
  };

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    done.hidden = true;
    var data = new FormData(form);
    data.delete("token");
    ["fleet", "lines"].forEach(function (name) {
      var f = data.get(name);
      if (f && !f.name) data.delete(name);
    });
    try {
      sessionStorage.setItem("wh-token", token.value);
    } catch (err) {
      /* ignore */
    }
    run.disabled = true;
    box.hidden = false;
    errorBox.hidden = true;
    bar.value = 0;
    stage.textContent = m("stage.uploading");
    fetch(form.getAttribute("data-jobs"), {
      method: "POST",
      headers: { Authorization: "Bearer " + token.value, Accept: "application/json" },
      body: data,
    })
      .then(function (r) {
        return r.json().then(
          function (body) {
            return { status: r.status, body: body, location: r.headers.get("Location") };
          },
          function () {
            return { status: r.status, body: {} };
          }
        );
      })
      .then(function (res) {
        if (res.status === 202) {
          render(res.body);
          poll(res.location);
          return;
        }
        var detail = res.body && res.body.error ? res.body.error.message : "";
        showError(m(statusText[res.status] || "plan.error_failed") + (detail ? " " + detail : ""));
      })
      .catch(function () {
        showError(m("plan.error_network"));
      });
  });

  // A reload finds the running job (or the last one) again; no job has run: nothing to ask.
  var current = form.getAttribute("data-current");
  if (current) poll(current);
})();
