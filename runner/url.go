package runner

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"time"

	"github.com/adapterconformance/adapter-conformance/app"
)

// URL is an already running deployment. The kit cannot start, stop or look
// inside it, so only the HTTP-observable requirements apply, and the
// deployment must be serving the fixture app the run names.
func URL(base string, opts ...Option) (Target, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("target %q is not an http:// or https:// URL", RedactURLs(base))
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("target %q: give the deployment's origin only; a base path belongs in the fixture app", RedactURLs(base))
	}
	t := &urlTarget{base: strings.TrimSuffix(base, "/"), settings: defaultSettings()}
	for _, o := range opts {
		o(&t.settings)
	}
	if t.settings.name == "" {
		t.settings.name = u.Host
	}
	return t, nil
}

type urlTarget struct {
	base string
	settings
}

func (t *urlTarget) Name() string { return t.settings.name }
func (t *urlTarget) Mode() Mode   { return ModeURL }

// Start checks that the deployment answers HTTP; it starts nothing.
func (t *urlTarget) Start(ctx context.Context, m *app.Manifest) (*Instance, error) {
	in := &Instance{Target: t.Name(), Mode: ModeURL, Unsupported: map[string]string{}}
	h := &Host{Shape: app.ShapeStart, Export: "deployment", URL: t.base, Faults: &FaultLog{}, NextCalls: &atomic.Int64{}}
	if err := waitReady(ctx, t.base, t.timeouts.Readiness, nil, nil); err != nil {
		h.StartError = deploymentSilent(t.base, t.timeouts.Readiness)
	}
	in.Hosts = append(in.Hosts, h)
	return in, nil
}

// urlUserinfo matches the userinfo of a URL written in text: its scheme,
// then a user and an optional password up to the "@" before the host.
var urlUserinfo = regexp.MustCompile(`\b([a-zA-Z][a-zA-Z0-9+.-]*://)([^\s/?#@:]*)(:[^\s/?#@]*)?@`)

// RedactURLs hides the credentials of every URL in s, wherever it comes
// from (a target, an exchange, an adapter's log line): the password becomes
// "xxxxx", as url.URL.Redacted writes it, and a user with no password
// (often a token) does too. Everything the kit prints or writes about a
// run passes through it, so a report appended to a CI job summary never
// carries a deployment's password.
func RedactURLs(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return urlUserinfo.ReplaceAllStringFunc(s, func(m string) string {
		sub := urlUserinfo.FindStringSubmatch(m)
		if sub[3] != "" {
			return sub[1] + sub[2] + ":xxxxx@"
		}
		return sub[1] + "xxxxx@"
	})
}

// Probe checks that a URL answers HTTP at all, with any status.
func Probe(ctx context.Context, base string) error {
	if err := waitReady(ctx, strings.TrimSuffix(base, "/"), readinessTimeout, nil, nil); err != nil {
		return deploymentSilent(base, readinessTimeout)
	}
	return nil
}

// deploymentSilent says, in a URL target's words, that nothing answered:
// the kit started nothing there, so there is no Start to blame.
func deploymentSilent(base string, within time.Duration) error {
	return fmt.Errorf("the deployment at %s did not answer HTTP (any status) within %s", RedactURLs(strings.TrimSuffix(base, "/")), within)
}
