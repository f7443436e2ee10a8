package suite_test

import (
	"context"
	"net"
	"slices"
	"testing"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/fixtures"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/broken"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/standalone"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/contract"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// deploy serves an integration on a loopback port, standing in for a
// deployment the kit can only reach over HTTP.
func deploy(t *testing.T, integration app.Integration) string {
	t.Helper()
	m, err := fixtures.Load("basic")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- contract.Serve(ctx, integration, m, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("the deployment did not stop cleanly: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

func TestURLTargets(t *testing.T) {
	good := deploy(t, standalone.Integration())
	target, err := runner.URL(good)
	if err != nil {
		t.Fatal(err)
	}
	res, err := suite.Run(nil, target, suite.Quiet(), suite.Fixtures("basic"))
	if err != nil {
		t.Fatal(err)
	}
	if f := res.Failed(); len(f) > 0 {
		t.Errorf("a good deployment failed %v", f)
	}
	for _, o := range res.Outcomes {
		if o.State == "passed" {
			r, _ := suite.RequirementByID(o.Requirement)
			if !r.AppliesToMode(string(runner.ModeURL)) {
				t.Errorf("%s passed against a URL target, but it does not apply in url mode", o.Requirement)
			}
		}
	}

	var b12 app.Integration
	for _, b := range broken.All() {
		if b.Name == "b12-notfound-200" {
			b12 = b.Integration
		}
	}
	target, _ = runner.URL(deploy(t, b12))
	res, err = suite.Run(nil, target, suite.Quiet(), suite.Fixtures("basic"))
	if err != nil {
		t.Fatal(err)
	}
	// MATCH-6 is not among them: a URL target declares nothing, so the
	// static-asset specs do not apply.
	want := []string{"ERROR-6", "NOTFOUND-1", "NOTFOUND-4", "NOTFOUND-5", "NOTFOUND-6", "NOTFOUND-7"}
	if got := res.Failed(); !slices.Equal(got, want) {
		t.Errorf("b12 as a deployment failed %q, want %q", got, want)
	}
}

func TestURLTargetRejectsBadURLs(t *testing.T) {
	for _, u := range []string{"ftp://x", "http://", "localhost:8080", "http://h/some/path"} {
		if _, err := runner.URL(u); err == nil {
			t.Errorf("runner.URL(%q) accepted it", u)
		}
	}
}
