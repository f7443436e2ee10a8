package reports

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
)

// WriteHTML writes one self-contained page: no external stylesheet, script
// or font, so it can be opened from a CI artifact without network access and
// cannot be made to load anything. Every captured string goes through
// html/template, because exchanges hold whatever the adapter under test sent
// back, markup included.
func WriteHTML(r *Report, w io.Writer) error {
	data := struct {
		R        *Report
		Shapes   []string
		Areas    []area
		Failures []Requirement
		Warnings []Requirement
		Known    []Requirement
		Others   []Requirement
		Filters  []string
	}{Filters: matrixFilters, R: r, Shapes: r.Shapes(), Areas: r.areas(), Failures: r.Failures(), Warnings: r.Warnings(), Known: r.KnownFailures()}
	for _, q := range r.Requirements {
		if q.Result != Failed {
			data.Others = append(data.Others, q)
		}
	}
	return htmlTemplate.Execute(w, data)
}

var htmlTemplate = template.Must(template.New("report").Funcs(template.FuncMap{
	"clean":     printable,
	"firstLine": func(s string) string { return printable(firstLine(s)) },
	"declaration": func(a any) string {
		b, err := json.MarshalIndent(a, "", "  ")
		if err != nil {
			return err.Error()
		}
		return printable(string(b))
	},
	"shapeResult": func(q Requirement, shape string) string { return q.ShapeResult(shape) },
	"shortResult": shortResult,
	"display":     func(r *Report, q Requirement) string { return r.DisplayResult(q) },
	"rerun":       func(r *Report, id string) string { return printable(r.RerunCommand(id)) },
	"ms":          func(v float64) string { return fmt.Sprintf("%.1f ms", v) },
	"add":         func(a, b int) int { return a + b },
	"isWarning":   func(r *Report, q Requirement) bool { return r.IsWarning(q) },
	"stale":       StaleMessage,
	"pair":        func(r *Report, q Requirement) failureSection { return failureSection{r, q} },
	"shownCounts": func(r *Report) []Count {
		var out []Count
		for _, c := range r.Counts() {
			if c.Shown() {
				out = append(out, c)
			}
		}
		return out
	},
}).Parse(htmlSource + failureTemplate))

// shortResult is a result as a matrix cell of one host shape shows it:
// six shape columns leave each about 80 px, too narrow for
// "not-applicable" in full (its <abbr> title has it whole).
func shortResult(result string) string {
	switch result {
	case Passed:
		return "pass"
	case Failed:
		return "fail"
	case Skipped:
		return "skip"
	case NotApplicable:
		return "n/a"
	}
	return result
}

// failureSection is what the "failure" template renders: one failed
// requirement of a report.
type failureSection struct {
	R *Report
	Q Requirement
}

// failureTemplate renders one failed requirement, a failure or a warning,
// with every failed spec expanded.
const failureTemplate = `{{define "failure"}}{{$r := .R}}{{with .Q}}
<section class="failure{{if isWarning $r .}} warn{{end}}" id="{{.ID}}">
<h3><span class="{{display $r .}}">{{clean .ID}}</span> ({{clean .Level}}): {{clean .Text}}</h3>
<p class="rerun">Rerun: <code>{{rerun $r .ID}}</code></p>
<p class="muted">Source: {{clean .Source}}.</p>
{{- range .Specs}}{{if eq .Result "failed"}}
<div class="spec">
<h4>{{clean .Spec}}</h4>
<p class="muted">fixture {{if .Fixture}}{{clean .Fixture}}{{else}}–{{end}}, shape {{if .Shape}}{{clean .Shape}}{{else}}–{{end}}, {{ms .DurationMs}}</p>
<pre>{{clean .Message}}</pre>
{{- range $i, $e := .Exchanges}}
<p>Exchange {{add $i 1}}</p>
<pre>{{clean $e}}</pre>
{{- end}}
{{- with .Logs}}
<p>Adapter logs</p>
<pre>{{clean .}}</pre>
{{- end}}
</div>
{{- end}}{{end}}
{{- range .Specs}}{{if ne .Result "failed"}}
<details><summary><span class="r {{.Result}}">{{.Result}}</span> {{clean .Spec}}</summary>{{with .Message}}<pre>{{clean .}}</pre>{{end}}</details>
{{- end}}{{end}}
</section>
{{- end}}{{end}}
`

// htmlCSS is the page's only style sheet. The Content-Security-Policy
// allows it by its hash (htmlCSP), so nothing else can style the page, and
// it forbids scripts outright: the page is static, its filter is CSS alone.
//
// Layout (issue 18, item 5): it fits a 1280 px window with no horizontal
// scrolling. Long tokens (URLs, paths, header values, base64 bodies) wrap
// rather than widen the page, code blocks wrap rather than scroll
// sideways, and the tables have a fixed layout (column widths set here,
// the text column takes the rest), which a long token cannot widen.
//
// The matrix filter is radio inputs that come before the table: the
// checked one hides, with sibling selectors, every row of another result,
// and with :has() every area whose rows are all hidden.
const htmlCSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;padding:1em 2em;color:#1b1b1b;background:#fff;overflow-wrap:break-word}
h1{font-size:1.5em;margin:.2em 0}h2{margin-top:1.6em;border-bottom:1px solid #ddd}h3{margin-bottom:.3em}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4}tr.area th{background:#e8eef7;font-weight:600}
pre{background:#f7f7f7;border:1px solid #e2e2e2;padding:.6em;overflow:auto;white-space:pre-wrap;word-break:break-all;max-height:40em}
.r{font-weight:600}.passed{color:#116329}.failed{color:#b3261e}.skipped{color:#8a5a00}.warning{color:#9a6700}.known-failure{color:#6e40c9}
.not-applicable,.not-run,.retired,.other-shard,.none{color:#777}
.verdict{display:inline-block;padding:.1em .6em;border-radius:4px;color:#fff;font-weight:700;text-transform:uppercase}
.verdict.pass{background:#1a7f37}.verdict.fail{background:#b3261e}.verdict.inconclusive{background:#777}
dl.meta{display:grid;grid-template-columns:max-content minmax(0,1fr);gap:.15em 1em}dl.meta dt{font-weight:600}dl.meta dd{margin:0;min-width:0}
nav.jump{margin:.8em 0}nav.jump a{margin-right:1em}
.failure{border-left:4px solid #b3261e;padding-left:1em;margin-bottom:2em}.failure.warn{border-left-color:#d4a72c}
.rerun{margin:.3em 0}.rerun code{display:inline-block;padding:.15em .4em;border:1px solid #e2e2e2}
.spec{margin:1em 0}.muted{color:#666}code{background:#f4f4f4;padding:0 .2em}
details{margin:.25em 0}summary{cursor:pointer}
table.fixed{table-layout:fixed}table.matrix td.shape{font-size:.9em}
col.id{width:8.5em}col.level{width:5em}col.result{width:8em}col.shape{width:5.8em}
col.s-result{width:8.5em}col.s-fixture{width:8em}col.s-shape{width:7em}col.s-time{width:5.5em}col.s-message{width:35%}
.filter{position:absolute;opacity:0;width:1px;height:1px;margin:0}
.filters{margin:.5em 0 .8em}.filters span{font-weight:600;margin-right:.4em}
.filters label{display:inline-block;margin:0 .3em .3em 0;padding:.1em .6em;border:1px solid #ccc;border-radius:1em;cursor:pointer;background:#fafafa}
#show-all:checked~.filters label[for=show-all],#show-failed:checked~.filters label[for=show-failed],#show-warning:checked~.filters label[for=show-warning],#show-known-failure:checked~.filters label[for=show-known-failure],#show-passed:checked~.filters label[for=show-passed],#show-skipped:checked~.filters label[for=show-skipped],#show-not-applicable:checked~.filters label[for=show-not-applicable],#show-not-run:checked~.filters label[for=show-not-run]{background:#1b1b1b;color:#fff;border-color:#1b1b1b}
.filter:focus-visible~.filters{outline:2px solid #0969da;outline-offset:2px}
#show-failed:checked~table tr[data-result]:not([data-result=failed]),#show-failed:checked~table tbody:not(:has(tr[data-result=failed])),
#show-warning:checked~table tr[data-result]:not([data-result=warning]),#show-warning:checked~table tbody:not(:has(tr[data-result=warning])),
#show-known-failure:checked~table tr[data-result]:not([data-result=known-failure]),#show-known-failure:checked~table tbody:not(:has(tr[data-result=known-failure])),
#show-passed:checked~table tr[data-result]:not([data-result=passed]),#show-passed:checked~table tbody:not(:has(tr[data-result=passed])),
#show-skipped:checked~table tr[data-result]:not([data-result=skipped]),#show-skipped:checked~table tbody:not(:has(tr[data-result=skipped])),
#show-not-applicable:checked~table tr[data-result]:not([data-result=not-applicable]),#show-not-applicable:checked~table tbody:not(:has(tr[data-result=not-applicable])),
#show-not-run:checked~table tr[data-result]:not([data-result=not-run]),#show-not-run:checked~table tbody:not(:has(tr[data-result=not-run])){display:none}
`

// htmlCSP is the page's Content-Security-Policy: nothing may load, no
// script may run (captured exchanges hold whatever the adapter sent back;
// html/template escapes them, and this is the second wall), and only
// htmlCSS may style the page.
var htmlCSP = "default-src 'none'; script-src 'none'; style-src '" + cspHash(htmlCSS) + "'; img-src data:; base-uri 'none'; form-action 'none'"

// cspHash is the CSP source expression of an inline element's content.
func cspHash(content string) string {
	sum := sha256.Sum256([]byte(content))
	return "sha256-" + base64.StdEncoding.EncodeToString(sum[:])
}

// matrixFilters are the results the matrix filter offers, as DisplayResult
// names them; htmlCSS has a rule for each.
var matrixFilters = []string{"failed", "warning", "known-failure", Passed, Skipped, NotApplicable, NotRun}

var htmlSource = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="` + htmlCSP + `">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>adapter-conformance {{.R.Summary.Verdict}}: {{clean .R.Target.Name}}</title>
<style>` + htmlCSS + `</style>
</head>
<body>
<header>
<h1>adapter-conformance <span class="verdict {{.R.Summary.Verdict}}">{{.R.Summary.Verdict}}</span>{{with .R.Summary.Warnings}} <span class="warning">with {{.}} warning(s)</span>{{end}}</h1>
<dl class="meta">
<dt>Target</dt><dd>{{clean .R.Target.Name}}</dd>
<dt>Mode</dt><dd>{{clean .R.Target.Mode}}</dd>
<dt>Kit version</dt><dd>{{clean .R.KitVersion}}</dd>
<dt>Fixtures</dt><dd>{{range $i, $f := .R.Fixtures}}{{if $i}}, {{end}}{{clean $f}}{{else}}<span class="muted">none</span>{{end}}</dd>
<dt>Generated</dt><dd>{{.R.GeneratedAt.Format "2006-01-02T15:04:05Z07:00"}}</dd>
<dt>Declaration</dt><dd>{{if .R.Target.Declaration}}<details><summary>{{clean .R.Target.Declaration.Name}}</summary><pre>{{declaration .R.Target.Declaration}}</pre></details>{{else}}<span class="muted">none</span>{{end}}{{with .R.Target.DeclarationError}}<pre class="failed">{{clean .}}</pre>{{end}}</dd>
{{with .R.RunError}}<dt>Run error</dt><dd><pre class="failed">{{clean .}}</pre></dd>{{end}}
{{with .R.Incomplete}}<dt>Run incomplete</dt><dd><pre class="failed">{{clean .}}</pre></dd>{{end}}
{{with .R.Baseline}}<dt>Baseline</dt><dd>{{clean .File}}: {{$.R.Summary.KnownFailures}} known failure(s), which do not fail the verdict{{range .Stale}}<pre class="failed">{{clean (stale .)}}</pre>{{end}}</dd>{{end}}
<dt>Requirements</dt><dd>{{len .R.Requirements}}: {{range $i, $c := shownCounts .R}}{{if $i}}, {{end}}<span class="{{$c.Result}}">{{$c.N}} {{$c.Label}}</span>{{end}}{{if .R.Summary.Strict}} (strict: failed SHOULDs fail the verdict){{end}}</dd>
</dl>
</header>

<nav class="jump"><a href="#failures">Failures</a>{{if .Warnings}}<a href="#warnings">Warnings</a>{{end}}{{if .Known}}<a href="#known">Known failures</a>{{end}}<a href="#matrix">Requirement matrix</a><a href="#others">Other requirements</a></nav>

<h2 id="failures">Failures</h2>
{{- range .Failures}}{{template "failure" (pair $.R .)}}
{{- else}}
<p class="passed">No requirement failed.</p>
{{- end}}
{{- if .Warnings}}

<h2 id="warnings">Warnings: failed SHOULD requirements</h2>
<p class="muted">A failed SHOULD does not fail the verdict; run with --strict (or suite.Strict()) to make it.</p>
{{- range .Warnings}}{{template "failure" (pair $.R .)}}{{end}}
{{- end}}
{{- if .Known}}

<h2 id="known">Known failures (baseline)</h2>
<p class="muted">They still fail, as the baseline says; they do not fail the verdict.</p>
{{- range .Known}}<p><span class="known-failure">{{clean .ID}}</span>: {{clean .KnownFailure.Reason}}{{with .KnownFailure.Link}} ({{clean .}}){{end}}</p>{{template "failure" (pair $.R .)}}{{end}}
{{- end}}

<section id="matrix">
<h2>Requirement matrix</h2>
<input type="radio" name="show" class="filter" id="show-all" checked>
{{- range .Filters}}
<input type="radio" name="show" class="filter" id="show-{{.}}">
{{- end}}
<div class="filters"><span>Show</span><label for="show-all">all</label>{{range .Filters}}<label for="show-{{.}}">{{.}}</label>{{end}}</div>
<table class="matrix fixed">
<colgroup><col class="id"><col class="level"><col class="result">{{range .Shapes}}<col class="shape">{{end}}<col></colgroup>
<thead><tr><th>ID</th><th>Level</th><th>Result</th>{{range .Shapes}}<th>{{clean .}}</th>{{end}}<th>Requirement</th></tr></thead>
{{- range .Areas}}
<tbody>
<tr class="area"><th colspan="{{add 4 (len $.Shapes)}}">{{clean .Area}}: {{clean .Title}}</th></tr>
{{- range $q := .Requirements}}{{$d := display $.R .}}
<tr id="m-{{.ID}}" data-result="{{$d}}"><td><a href="#{{.ID}}">{{clean .ID}}</a></td><td>{{clean .Level}}</td><td class="r {{$d}}">{{$d}}</td>
{{- range $.Shapes}}{{$sr := shapeResult $q .}}<td class="r shape {{if $sr}}{{$sr}}{{else}}none{{end}}">{{if $sr}}<abbr title="{{$sr}}">{{shortResult $sr}}</abbr>{{else}}–{{end}}</td>{{end -}}
<td>{{clean .Text}}</td></tr>
{{- end}}
</tbody>
{{- end}}
</table>
</section>

<h2 id="others">Other requirements</h2>
{{- range .Others}}
<details id="{{.ID}}"><summary><span class="r {{.Result}}">{{.Result}}</span> <strong>{{clean .ID}}</strong> ({{clean .Level}}): {{clean .Text}}</summary>
<p class="muted">Source: {{clean .Source}}. Status: {{clean .Status}}.{{with .Reason}} Reason: {{clean .}}{{end}}</p>
{{- if .Specs}}
<table class="fixed">
<colgroup><col class="s-result"><col><col class="s-fixture"><col class="s-shape"><col class="s-time"><col class="s-message"></colgroup>
<thead><tr><th>Result</th><th>Spec</th><th>Fixture</th><th>Shape</th><th>Time</th><th>Message</th></tr></thead>
<tbody>
{{- range .Specs}}
<tr><td class="r {{.Result}}">{{.Result}}</td><td>{{clean .Spec}}</td><td>{{clean .Fixture}}</td><td>{{clean .Shape}}</td><td>{{ms .DurationMs}}</td><td>{{firstLine .Message}}</td></tr>
{{- end}}
</tbody>
</table>
{{- end}}
</details>
{{- end}}
<footer><p class="muted">{{clean .R.Schema}}</p></footer>
</body>
</html>
`
