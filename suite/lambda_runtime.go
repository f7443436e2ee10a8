package suite

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/onsi/ginkgo/v2"

	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/lambdahost"
)

// The Lambda Runtime API's specs' helpers (LAMBDA-14, LAMBDA-20): what a
// runtime posted for an invocation, and the report of its exchanges with
// the kit's Runtime API that their failures carry.

// undecodableEvent makes an event no gateway sends and no gateway event
// type decodes: rawPath (v2) or path (v1) a number (LAMBDA-14, LAMBDA-20).
func undecodableEvent(ev map[string]any) { ev["rawPath"], ev["path"] = 42, 42 }

// itRuntime registers a spec about a Lambda host run through the Runtime
// API. Unlike it, it runs when the runtime never became ready: that is what
// it reports.
func (h *hostEnv) itRuntime(id, text string, body func(ctx ginkgo.SpecContext, api *lambdahost.RuntimeAPI)) {
	spec(h.fx, id, h.shape, text, func(ctx ginkgo.SpecContext) {
		if h.absent != "" {
			skipNotApplicable(h.absent)
		}
		var api *lambdahost.RuntimeAPI
		if h.host != nil {
			api = h.host.Runtime
		}
		if api == nil {
			skipNotApplicable("the " + string(h.shape) + " host is not served through the Lambda Runtime API")
		}
		body(ctx, api)
	})
}

// runtimePosts lists the /response and /error posts the runtime made for
// a request id, with the status the kit answered.
func runtimePosts(api *lambdahost.RuntimeAPI, id string) []string {
	var out []string
	for _, c := range api.CallsFor(id) {
		if c.Method != http.MethodPost {
			continue
		}
		switch {
		case strings.HasSuffix(c.Path, "/response"):
			out = append(out, "response "+itoa(c.Status))
		case strings.HasSuffix(c.Path, "/error"):
			out = append(out, "error "+itoa(c.Status))
		}
	}
	return out
}

// withRuntime adds to a failure message what the runtime did on the
// Runtime API, and its output.
func withRuntime(f func() string, api *lambdahost.RuntimeAPI, host *runner.Host) func() string {
	return func() string { return f() + runtimeReport(api, host) }
}

func explainRuntime(expected string, api *lambdahost.RuntimeAPI, host *runner.Host) func() string {
	return withRuntime(explain(expected), api, host)
}

func runtimeReport(api *lambdahost.RuntimeAPI, host *runner.Host) string {
	var b strings.Builder
	if host.StartError != nil {
		b.WriteString("the runtime did not start: " + host.StartError.Error() + "\n")
	}
	calls := api.Calls()
	fmt.Fprintf(&b, "Runtime API calls (%d GET /next in all, %d waiting now; last 20 shown):\n", api.Nexts(), api.Waiting())
	if len(calls) > 20 {
		calls = calls[len(calls)-20:]
	}
	for _, c := range calls {
		fmt.Fprintf(&b, "  %s %s -> %d %s\n", c.Method, c.Path, c.Status, c.Note)
	}
	if ie := api.InitError(); ie != nil {
		b.WriteString("  /runtime/init/error: " + ie.Error() + "\n")
	}
	if host.Logs != nil {
		b.WriteString("runtime output (last 2000 bytes):\n" + tailString(host.Logs(), 2000) + "\n")
	}
	return b.String()
}

func tailString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
