package suite_test

import (
	"context"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/standalone"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// BenchmarkFullRun is the wall time of a whole run of the suite against the
// good standalone adapter in each mode, on the primary fixture ("basic")
// and on every fixture. Binary and container targets are made anew each
// iteration, so their figures include `go build` and, for containers, the
// image build. Compare them as ratios within one run: this machine is noisy.
func BenchmarkFullRun(b *testing.B) {
	targets := []struct {
		mode string
		make func() runner.Target
	}{
		{"inprocess", func() runner.Target { return runner.InProcess(standalone.Name, standalone.Integration()) }},
		{"binary", func() runner.Target { return runner.Binary(adapterDir("good", "standalone")) }},
		{"container", func() runner.Target { return runner.Container(adapterDir("good", "standalone")) }},
	}
	for _, tc := range targets {
		for _, fx := range []struct {
			name string
			opts []suite.Option
		}{{"basic", []suite.Option{suite.Fixtures("basic")}}, {"all-fixtures", nil}} {
			b.Run(tc.mode+"/"+fx.name, func(b *testing.B) {
				if tc.mode == "container" {
					runner.ConfigureTestcontainers()
					if err := runner.DockerAvailable(context.Background()); err != nil {
						b.Skip(err)
					}
				}
				for b.Loop() {
					res, err := suite.Run(nil, tc.make(), append(fx.opts, suite.Quiet())...)
					if err != nil {
						b.Fatal(err)
					}
					if f := res.Failed(); len(f) > 0 {
						b.Fatalf("the good adapter failed %v", f)
					}
				}
				// Issue 19 item 1: a run's wall time over the longest
				// deliberate wait (target: at most 1 + 0.3 s / that wait).
				perRun := b.Elapsed() / time.Duration(b.N)
				b.ReportMetric(float64(perRun)/float64(suite.LongestDeliberateWait), "wall/longest-wait")
				b.ReportMetric((perRun - suite.LongestDeliberateWait).Seconds(), "s-over-longest-wait")
			})
		}
	}
}
