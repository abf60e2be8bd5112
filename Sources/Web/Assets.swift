/// The pages' stylesheet and their one script, served from the binary
/// (`/static/koers.css`, `/static/koers.js`): no CDN, no build step.
enum Assets {
    static let css = """
        :root { --ok: #1a7f37; --risk: #9a6700; --bad: #cf222e; --unknown: #57606a; --done: #0969da; --ink: #1f2328; --line: #d0d7de; }
        * { box-sizing: border-box; }
        body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); margin: 0; line-height: 1.45; font-size: 1rem; }
        .skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: 1rem; background: #fff; padding: .5rem; z-index: 2; }
        header.top { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: center; padding: .75rem 1rem; border-bottom: 1px solid var(--line); }
        header.top .brand { margin: 0; font-weight: 600; }
        header.top nav ul { list-style: none; display: flex; gap: 1rem; margin: 0; padding: 0; }
        header.top a[aria-current="page"] { font-weight: 700; text-decoration-thickness: 3px; }
        form.asof { display: flex; gap: .4rem; align-items: center; margin-left: auto; }
        main { padding: 0 1rem 2rem; max-width: 80rem; }
        .live { margin: 0; padding: .4rem 1rem; background: #f6f8fa; border-bottom: 1px solid var(--line); font-size: .9rem; }
        .live.lost { background: #fff8c5; font-weight: 600; }
        a:focus, button:focus, input:focus, summary:focus { outline: 3px solid #0969da; outline-offset: 2px; }
        .badge { display: inline-block; padding: 0 .4rem; border: 1px solid currentColor; border-radius: .3rem; font-size: .85rem; white-space: nowrap; }
        .state-done { color: var(--done); } .state-on-track { color: var(--ok); } .state-at-risk { color: var(--risk); }
        .state-lagging, .state-overdue { color: var(--bad); } .state-unknown, .state-not-started { color: var(--unknown); }
        tr[class^="state-"] { color: var(--ink); }
        .severity-critical { color: var(--bad); } .severity-warning { color: var(--risk); } .severity-info { color: var(--unknown); }
        table.items { width: 100%; border-collapse: collapse; margin: .5rem 0 1rem; }
        table.items th, table.items td { text-align: left; vertical-align: top; padding: .35rem .5rem; border-bottom: 1px solid var(--line); }
        table.items thead th { font-size: .85rem; color: #57606a; }
        .kind { font-size: .8rem; color: #57606a; }
        .bar { position: relative; display: inline-block; width: 6rem; height: .7rem; border: 1px solid #8c959f; vertical-align: middle; }
        .bar .fill { position: absolute; left: 0; top: 0; bottom: 0; background: #8c959f; }
        .bar .expected { position: absolute; top: -3px; bottom: -3px; width: 2px; background: var(--ink); }
        .figure { font-size: .85rem; white-space: nowrap; }
        details.intervention { margin: .5rem 0; } details.intervention summary { cursor: pointer; }
        .owner { color: #57606a; font-size: .9rem; }
        .liveness.silent { color: var(--bad); }
        ul.counts { list-style: none; display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; padding: 0; font-size: 1.1rem; }
        ul.alerts { list-style: none; padding: 0; }
        li.alert { border-left: 4px solid currentColor; padding: .25rem .75rem; margin: .75rem 0; }
        li.alert p { margin: .2rem 0; color: var(--ink); }
        li.alert form, li.alert details { color: var(--ink); }
        .ack-form fieldset { display: flex; flex-wrap: wrap; gap: .5rem; border: 1px solid var(--line); }
        ul.changes { padding-left: 1.2rem; } .changes .date { font-variant-numeric: tabular-nums; color: #57606a; }
        footer { padding: 1rem; border-top: 1px solid var(--line); font-size: .85rem; color: #57606a; }
        figure.chart svg { max-width: 100%; height: auto; }
        @media (max-width: 40rem) {
          table.items thead { display: none; }
          table.items tr { display: block; border-bottom: 1px solid var(--line); padding: .4rem 0; }
          table.items th, table.items td { display: block; border: 0; padding: .1rem 0; }
          form.asof { margin-left: 0; }
        }
        @media print { .live, form, .skip, nav { display: none; } }
        """

    /// Follows `/api/v1/stream` (Server-Sent Events) from the sequence the page was
    /// rendered at; on a change it fetches the same page again and swaps its content in
    /// place (the server renders every word, so the page never shows a half-updated
    /// state); a lost connection is shown, and on reconnecting, or on a `reset` event,
    /// the page resynchronises the same way.
    static let js = """
        (function () {
          "use strict";
          var body = document.body;
          if (body.dataset.live !== "true" || !window.EventSource) return;
          var live = document.getElementById("live");
          var seq = body.dataset.sequence || "0";
          var pending = null, lost = false;
          function say(text, isLost) {
            live.textContent = text;
            live.classList.toggle("lost", !!isLost);
          }
          function refresh() {
            if (pending) return;
            pending = setTimeout(function () {
              pending = null;
              fetch(location.href, { headers: { "Accept": "text/html" } }).then(function (r) {
                if (!r.ok) throw new Error("HTTP " + r.status);
                return r.text();
              }).then(function (html) {
                var doc = new DOMParser().parseFromString(html, "text/html");
                var fresh = doc.getElementById("inhoud");
                if (!fresh) return;
                // Keep what the person is typing in an open form.
                var active = document.activeElement;
                if (active && active.form && active.value) return;
                document.getElementById("inhoud").innerHTML = fresh.innerHTML;
                seq = doc.body.dataset.sequence || seq;
                body.dataset.sequence = seq;
                say("Live: bijgewerkt, volgnummer " + seq + ".");
              }).catch(function () { say("Bijwerken mislukt; opnieuw bij het volgende bericht.", true); });
            }, 250);
          }
          var source = new EventSource("/api/v1/stream?after=" + encodeURIComponent(seq));
          function onDocument(e) {
            if (e.lastEventId) { seq = e.lastEventId; }
            refresh();
          }
          source.addEventListener("status_change", onDocument);
          source.addEventListener("alert_transition", onDocument);
          source.addEventListener("reset", function () { refresh(); });
          source.onopen = function () {
            if (lost) { lost = false; say("Verbinding hersteld; de stand wordt opnieuw opgehaald."); refresh(); }
          };
          source.onerror = function () {
            lost = true;
            say("Verbinding met Koers verbroken; de getoonde stand kan verouderd zijn. Opnieuw verbinden…", true);
          };
        })();
        """
}
