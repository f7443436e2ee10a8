package runner

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"

	"github.com/adapterconformance/adapter-conformance/app"
)

// URL is an already running deployment. The kit cannot start, stop or look
// inside it, so only the HTTP-observable requirements apply, and the
// deployment must be serving the fixture app the run names.
func URL(base string, opts ...Option) (Target, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("target %q is not an http:// or https:// URL", base)
	}
	if u.Path != "" && u.Path != "/" {
		return nil, fmt.Errorf("target %q: give the deployment's origin only; a base path belongs in the fixture app", base)
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
	if err := waitReady(ctx, t.base, t.readiness, nil, nil); err != nil {
		h.StartError = err
	}
	in.Hosts = append(in.Hosts, h)
	return in, nil
}

// Probe checks that a URL answers HTTP at all, with any status.
func Probe(ctx context.Context, base string) error {
	return waitReady(ctx, strings.TrimSuffix(base, "/"), ReadinessTimeout, nil, nil)
}
