/// The pages' Mustache templates (swift-mustache). Kept in the binary, so the pages need
/// no files beside it and no network: `{{x}}` is escaped, `{{{x}}}` is markup the
/// server made (the rendered page body, the SVG charts).
enum Templates {
    static let layout = """
        <!DOCTYPE html>
        <html lang="nl">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>{{title}} — Koers</title>
        <link rel="stylesheet" href="/static/koers.css">
        </head>
        <body data-sequence="{{sequence}}" data-live="{{#live}}true{{/live}}{{^live}}false{{/live}}">
        <a class="skip" href="#inhoud">Naar de inhoud</a>
        <header class="top">
          <p class="brand"><a href="/">Koers</a> · {{programme}}</p>
          <nav aria-label="Hoofdmenu">
            <ul>
              <li><a href="/{{query}}"{{#isOverview}} aria-current="page"{{/isOverview}}>Overzicht</a></li>
              <li><a href="/wijken{{query}}"{{#isAreas}} aria-current="page"{{/isAreas}}>Wijken</a></li>
              <li><a href="/alerts{{query}}"{{#isAlerts}} aria-current="page"{{/isAlerts}}>Meldingen</a></li>
            </ul>
          </nav>
          <form class="asof" method="get" action="">
            <label for="as_of">Stand per</label>
            <input type="date" id="as_of" name="as_of" value="{{asOfValue}}">
            <button type="submit">Toon</button>
            {{#asOf}}<a href="?">naar vandaag</a>{{/asOf}}
          </form>
        </header>
        <p id="live" class="live" role="status" aria-live="polite">{{#live}}Live: de pagina volgt de stroom (volgnummer <span id="seq">{{sequence}}</span>).{{/live}}{{^live}}Stand per {{dateText}}: zoals het toen stond, herberekend uit de opgeslagen rapportages.{{/live}}</p>
        <main id="inhoud">
        {{{body}}}
        </main>
        <footer><p>Stand per {{dateText}} · plan versie {{planVersion}} · volgnummer {{sequence}} · <a href="/api/v1/status{{query}}">als JSON</a></p></footer>
        {{#live}}<script src="/static/koers.js" defer></script>{{/live}}
        </body>
        </html>
        """

    /// One item's row: state as symbol and word, progress against the path, the why.
    static let itemRow = """
        <tr id="item-{{id}}" data-item="{{id}}" class="state-{{state}}">
          <th scope="row"><a href="{{link}}">{{name}}</a> <span class="kind">{{kind}}</span></th>
          <td class="state"><span class="badge state-{{state}}"><span aria-hidden="true">{{symbol}}</span> <span class="word">{{stateWord}}</span></span></td>
          <td class="progress">{{#progress}}<span class="bar" aria-hidden="true"><span class="fill" style="width:{{progressWidth}}%"></span>{{#expected}}<span class="expected" style="left:{{expectedLeft}}%"></span>{{/expected}}</span>
            <span class="figure">{{progress}}{{#expected}} (verwacht {{expected}}){{/expected}}</span>{{/progress}}{{^progress}}<span class="figure">{{#expected}}verwacht {{expected}}{{/expected}}{{^expected}}–{{/expected}}</span>{{/progress}}</td>
          <td class="why">{{why}}</td>
          <td class="due">{{due}}</td>
        </tr>
        """

    static let itemTableHead = """
        <thead><tr><th scope="col">Mijlpaal of indicator</th><th scope="col">Stand</th><th scope="col">Voortgang</th><th scope="col">Waarom</th><th scope="col">Einddatum</th></tr></thead>
        """

    static let themes = """
        {{#themes}}
        <section class="theme" id="thema-{{id}}" aria-labelledby="h-thema-{{id}}">
          <h2 id="h-thema-{{id}}"><span class="badge state-{{state}}"><span aria-hidden="true">{{symbol}}</span> <span class="word">{{stateWord}}</span></span> {{name}}</h2>
          <p class="liveness{{#silent}} silent{{/silent}}">{{#silent}}<strong>Themadienst stil</strong> — {{/silent}}{{heard}}{{#counts}} · {{counts}}{{/counts}}</p>
          {{#goals}}
          <h3>Doel: {{name}}</h3>
          {{#interventions}}
          <details class="intervention" open>
            <summary><span class="badge state-{{state}}"><span aria-hidden="true">{{symbol}}</span> <span class="word">{{stateWord}}</span></span> <strong>Interventie: {{name}}</strong> <span class="owner">eigenaar {{owner}}{{#areas}} · {{areas}}{{/areas}}{{#counts}} · {{counts}}{{/counts}}</span></summary>
            {{#hasItems}}<table class="items">{{> itemTableHead}}<tbody>
            {{#items}}{{> itemRow}}{{/items}}
            </tbody></table>{{/hasItems}}
          </details>
          {{/interventions}}
          {{#hasIndicators}}
          <table class="items indicators"><caption>Indicatoren</caption>{{> itemTableHead}}<tbody>
          {{#indicators}}{{> itemRow}}{{/indicators}}
          </tbody></table>
          {{/hasIndicators}}
          {{/goals}}
        </section>
        {{/themes}}
        """

    static let alertList = """
        <ul class="alerts">
        {{#alerts}}
          <li id="alert-{{keyPath}}" class="alert severity-{{severity}} alert-{{state}}" data-alert="{{key}}">
            <p class="alert-head"><span class="badge severity-{{severity}}">{{severityWord}}</span> <span class="alert-state">{{stateWord}}</span>
              <a href="{{link}}">{{subjectName}}</a> <span class="since">sinds {{since}}</span></p>
            <p class="evidence">{{evidence}}</p>
            <p class="meta">{{meta}}</p>
            <p class="action"><strong>Wat te doen:</strong> {{action}}</p>
            {{#acknowledged}}<p class="ack">{{acknowledged}}</p>{{/acknowledged}}
            {{#canAcknowledge}}
            <details class="ack"><summary>In behandeling nemen</summary>
            <form class="ack-form" method="post" action="/alerts/{{keyPath}}/ack">
              <fieldset><legend>Melding {{key}} in behandeling nemen</legend>
              <label>Reden <input name="reason" required></label>
              <label>Tot (optioneel) <input type="date" name="until"></label>
              <label>Door (naam) <input name="by"></label>
              <label>Sleutel (operator-token) <input type="password" name="token" required autocomplete="current-password"></label>
              <button type="submit">Bevestig</button></fieldset>
            </form></details>
            {{/canAcknowledge}}
          </li>
        {{/alerts}}
        {{^alerts}}<li class="none">Geen open meldingen.</li>{{/alerts}}
        </ul>
        """

    static let overview = """
        <h1>{{heading}}</h1>
        <section aria-labelledby="h-samenvatting" class="summary">
          <h2 id="h-samenvatting">Samenvatting</h2>
          <p class="programme"><span class="badge state-{{state}}"><span aria-hidden="true">{{symbol}}</span> <span class="word">{{stateWord}}</span></span> Het programma als geheel, over {{itemCount}} mijlpalen en indicatoren:</p>
          <ul class="counts">{{#summary}}<li class="state-{{state}}"><span aria-hidden="true">{{symbol}}</span> {{count}} {{word}}</li>{{/summary}}</ul>
          {{#summarised}}<p class="note">Dit plan telt {{itemCount}} onderdelen: per interventie staan hier de aantallen; de mijlpalen zelf staan per wijk en per mijlpaal.</p>{{/summarised}}
        </section>
        <section aria-labelledby="h-meldingen">
          <h2 id="h-meldingen">Open meldingen ({{alertCount}})</h2>
          {{> alertList}}
          {{#moreAlerts}}<p><a href="/alerts{{query}}">Alle {{alertCount}} meldingen</a></p>{{/moreAlerts}}
        </section>
        <section aria-labelledby="h-veranderd">
          <h2 id="h-veranderd">Wat is er veranderd (afgelopen week)</h2>
          <ul class="changes" id="changes">
          {{#changes}}<li class="state-{{state}}"><span class="date">{{date}}</span> <span aria-hidden="true">{{symbol}}</span> <a href="{{link}}">{{text}}</a></li>{{/changes}}
          {{^changes}}<li class="none">Geen veranderingen in de afgelopen week.</li>{{/changes}}
          </ul>
        </section>
        {{> themes}}
        """
}

extension Templates {
    static let item = """
        <nav aria-label="Kruimelpad" class="crumbs"><a href="/{{query}}">Overzicht</a> › <a href="/{{query}}#thema-{{themeID}}">{{themeName}}</a> › {{goalName}}{{#interventionName}} › {{interventionName}}{{/interventionName}}</nav>
        <h1>{{name}} <span class="kind">{{kind}}</span></h1>
        <p class="status"><span class="badge state-{{state}}"><span aria-hidden="true">{{symbol}}</span> <span class="word">{{stateWord}}</span></span> {{why}}</p>
        {{#chart}}<figure class="chart">{{{chart}}}</figure>{{/chart}}
        <dl class="facts">
        {{#facts}}<dt>{{term}}</dt><dd>{{value}}</dd>{{/facts}}
        </dl>
        <section aria-labelledby="h-waarden">
          <h2 id="h-waarden">Gerapporteerde waarden</h2>
          {{#hasReports}}
          <table class="reports"><thead><tr><th scope="col">Peildatum</th><th scope="col">Waarde</th><th scope="col">Door</th><th scope="col">Toelichting</th></tr></thead><tbody>
          {{#reports}}<tr><td>{{date}}</td><td>{{value}}</td><td>{{by}}</td><td>{{note}}</td></tr>{{/reports}}
          </tbody></table>
          {{#earlier}}<p>En {{earlier}} eerdere rapportages (alle: <a href="/api/v1/items/{{id}}">als JSON</a>).</p>{{/earlier}}
          {{/hasReports}}
          {{^hasReports}}<p>Nog geen rapportages ontvangen.</p>{{/hasReports}}
        </section>
        <section aria-labelledby="h-verloop">
          <h2 id="h-verloop">Verloop van stand en meldingen</h2>
          <ul class="changes">
          {{#history}}<li class="state-{{state}}"><span class="date">{{date}}</span> <span aria-hidden="true">{{symbol}}</span> {{text}}</li>{{/history}}
          {{^history}}<li class="none">Nog geen veranderingen vastgelegd.</li>{{/history}}
          </ul>
        </section>
        """

    static let areas = """
        <h1>Wijken: stand per {{dateText}}</h1>
        <table class="items"><thead><tr><th scope="col">Wijk</th><th scope="col">Stand</th><th scope="col">Onderdelen</th></tr></thead><tbody>
        {{#areas}}<tr class="state-{{state}}"><th scope="row"><a href="/wijken/{{id}}{{query}}">{{name}}</a>{{#priority}} <span class="kind">prioritaire wijk</span>{{/priority}}</th>
          <td><span class="badge state-{{state}}"><span aria-hidden="true">{{symbol}}</span> <span class="word">{{stateWord}}</span></span></td><td>{{counts}}</td></tr>{{/areas}}
        </tbody></table>
        """

    static let area = """
        <nav aria-label="Kruimelpad" class="crumbs"><a href="/{{query}}">Overzicht</a> › <a href="/wijken{{query}}">Wijken</a> › {{name}}</nav>
        <h1>{{name}}: stand per {{dateText}}</h1>
        <p class="programme"><span class="badge state-{{state}}"><span aria-hidden="true">{{symbol}}</span> <span class="word">{{stateWord}}</span></span> {{counts}}</p>
        <section aria-labelledby="h-meldingen">
          <h2 id="h-meldingen">Open meldingen in {{name}} ({{alertCount}})</h2>
          {{> alertList}}
        </section>
        {{> themes}}
        """

    static let alerts = """
        <h1>Meldingen: stand per {{dateText}}</h1>
        <form class="filters" method="get" action="/alerts">
          {{#asOf}}<input type="hidden" name="as_of" value="{{asOfValue}}">{{/asOf}}
          <label for="f-theme">Thema</label>
          <select id="f-theme" name="theme"><option value="">alle</option>{{#themes}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/themes}}</select>
          <label for="f-severity">Ernst</label>
          <select id="f-severity" name="severity"><option value="">alle</option>{{#severities}}<option value="{{id}}"{{#selected}} selected{{/selected}}>{{name}}</option>{{/severities}}</select>
          <button type="submit">Filter</button>
        </form>
        {{#message}}<p class="message" role="alert">{{message}}</p>{{/message}}
        <section aria-labelledby="h-open">
          <h2 id="h-open">Open ({{alertCount}}){{#pageText}} — {{pageText}}{{/pageText}}</h2>
          {{> alertList}}
          {{#next}}<p><a href="{{next}}">Volgende pagina</a></p>{{/next}}
        </section>
        <section aria-labelledby="h-recent">
          <h2 id="h-recent">Recent opgelost</h2>
          <ul class="changes">
          {{#resolved}}<li class="state-done"><span class="date">{{date}}</span> <span aria-hidden="true">✔</span> <a href="{{link}}">{{text}}</a></li>{{/resolved}}
          {{^resolved}}<li class="none">Geen opgeloste meldingen vastgelegd.</li>{{/resolved}}
          </ul>
        </section>
        """
}
