package reports

import (
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
	}{R: r, Shapes: r.Shapes(), Areas: r.areas(), Failures: r.Failures(), Warnings: r.Warnings(), Known: r.KnownFailures()}
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
<p class="muted">Source: {{clean .Source}}. Rerun: <code>{{rerun $r .ID}}</code></p>
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

const htmlSource = `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>adapter-conformance {{.R.Summary.Verdict}}: {{clean .R.Target.Name}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:1200px;padding:1em 2em;color:#1b1b1b;background:#fff}
h1{font-size:1.5em;margin:.2em 0}h2{margin-top:1.6em;border-bottom:1px solid #ddd}h3{margin-bottom:.3em}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4}tr.area th{background:#e8eef7;font-weight:600}
pre{background:#f7f7f7;border:1px solid #e2e2e2;padding:.6em;overflow:auto;white-space:pre-wrap;word-break:break-all;max-height:40em}
.r{font-weight:600;white-space:nowrap}.passed{color:#116329}.failed{color:#b3261e}.skipped{color:#8a5a00}.warning{color:#9a6700}
.not-applicable,.not-run,.none{color:#777}
.verdict{display:inline-block;padding:.1em .6em;border-radius:4px;color:#fff;font-weight:700;text-transform:uppercase}
.verdict.pass{background:#1a7f37}.verdict.fail{background:#b3261e}.verdict.inconclusive{background:#777}
dl.meta{display:grid;grid-template-columns:max-content auto;gap:.15em 1em}dl.meta dt{font-weight:600}dl.meta dd{margin:0}
.failure{border-left:4px solid #b3261e;padding-left:1em;margin-bottom:2em}.failure.warn{border-left-color:#d4a72c}
.spec{margin:1em 0}.muted{color:#666}code{background:#f4f4f4;padding:0 .2em}
details{margin:.25em 0}summary{cursor:pointer}
</style>
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

<h2>Requirement matrix</h2>
<table>
<thead><tr><th>ID</th><th>Level</th><th>Result</th>{{range .Shapes}}<th>{{clean .}}</th>{{end}}<th>Requirement</th></tr></thead>
<tbody>
{{- range .Areas}}
<tr class="area"><th colspan="{{add 4 (len $.Shapes)}}">{{clean .Area}}: {{clean .Title}}</th></tr>
{{- range $q := .Requirements}}
<tr id="m-{{.ID}}"><td><a href="#{{.ID}}">{{clean .ID}}</a></td><td>{{clean .Level}}</td>{{$d := display $.R .}}<td class="r {{$d}}">{{$d}}</td>
{{- range $.Shapes}}{{$sr := shapeResult $q .}}<td class="r {{if $sr}}{{$sr}}{{else}}none{{end}}">{{if $sr}}{{$sr}}{{else}}–{{end}}</td>{{end -}}
<td>{{clean .Text}}</td></tr>
{{- end}}
{{- end}}
</tbody>
</table>

<h2>Failures</h2>
{{- range .Failures}}{{template "failure" (pair $.R .)}}
{{- else}}
<p class="passed">No requirement failed.</p>
{{- end}}
{{- if .Warnings}}

<h2>Warnings: failed SHOULD requirements</h2>
<p class="muted">A failed SHOULD does not fail the verdict; run with --strict (or suite.Strict()) to make it.</p>
{{- range .Warnings}}{{template "failure" (pair $.R .)}}{{end}}
{{- end}}
{{- if .Known}}

<h2>Known failures (baseline)</h2>
<p class="muted">They still fail, as the baseline says; they do not fail the verdict.</p>
{{- range .Known}}<p><span class="known-failure">{{clean .ID}}</span>: {{clean .KnownFailure.Reason}}{{with .KnownFailure.Link}} ({{clean .}}){{end}}</p>{{template "failure" (pair $.R .)}}{{end}}
{{- end}}

<h2>Other requirements</h2>
{{- range .Others}}
<details id="{{.ID}}"><summary><span class="r {{.Result}}">{{.Result}}</span> <strong>{{clean .ID}}</strong> ({{clean .Level}}): {{clean .Text}}</summary>
<p class="muted">Source: {{clean .Source}}. Status: {{clean .Status}}.{{with .Reason}} Reason: {{clean .}}{{end}}</p>
{{- if .Specs}}
<table>
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
