package suite_test

import (
	"context"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/standalone"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/container"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// BenchmarkFullRun is the wall time of a whole run of the suite against the
// good standalone adapter in each mode, on the primary fixture ("basic")
// and on every fixture. Binary and container targets are made anew each
// iteration, so their figures include `go build` and, for "container", the
// image build (a cold build, without the image cache); "container-cached"
// reuses an image built before the timing (issue 19 item 3: the six
// fixtures in at most 8 s). Compare them as ratios within one run: this
// machine is noisy.
func BenchmarkFullRun(b *testing.B) {
	cachedName := "bench-full-run-" + strconv.Itoa(os.Getpid())
	targets := []struct {
		mode string
		make func() runner.Target
	}{
		{"inprocess", func() runner.Target { return runner.InProcess(standalone.Name, standalone.Integration()) }},
		{"binary", func() runner.Target { return runner.Binary(adapterDir("good", "standalone")) }},
		{"container", func() runner.Target {
			return container.Container(adapterDir("good", "standalone"), runner.WithoutImageCache())
		}},
		{"container-cached", func() runner.Target {
			return container.Container(adapterDir("good", "standalone"), runner.WithName(cachedName))
		}},
	}
	// Before anything uses testcontainers, the cleanup below included
	// (it runs whichever sub-benchmarks -bench selects).
	container.ConfigureTestcontainers()
	defer func() {
		if _, err := container.RemoveCachedImages(context.Background(), cachedName); err != nil && !errors.Is(err, container.ErrNoDocker) {
			b.Errorf("RemoveCachedImages: %v", err)
		}
	}()
	for _, tc := range targets {
		for _, fx := range []struct {
			name string
			opts []suite.Option
		}{{"basic", []suite.Option{suite.Fixtures("basic")}}, {"all-fixtures", nil}} {
			b.Run(tc.mode+"/"+fx.name, func(b *testing.B) {
				if strings.HasPrefix(tc.mode, "container") {
					if err := container.DockerAvailable(context.Background()); err != nil {
						b.Skip(err)
					}
				}
				if tc.mode == "container-cached" {
					// Built (or found) before the timing starts.
					t := tc.make()
					if err := t.(runner.Preparer).Prepare(context.Background()); err != nil {
						b.Fatal(err)
					}
					t.(io.Closer).Close()
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

// BenchmarkDiffCorpus is the differential corpus's speed (DIFF-1..4, basic
// fixture, the default corpus) in each mode, as requests per second of the
// corpus's own time (the DIFF specs' durations: no build, no start), and
// as a ratio to in-process measured in the same run. The in-process
// figure is taken first, whichever sub-benchmarks -bench selects.
func BenchmarkDiffCorpus(b *testing.B) {
	binary := func(parts ...string) func() runner.Target {
		return func() runner.Target { return runner.Binary(adapterDir(parts...)) }
	}
	modes := []struct {
		name string
		make func() runner.Target
	}{
		{"inprocess", func() runner.Target { return runner.InProcess(standalone.Name, standalone.Integration()) }},
		{"binary-standalone", binary("good", "standalone")},
		{"binary-handler", binary("good", "handler")},
		{"lambda-runtime-v1", binary("good", "lambda", "cmd", "lambda-v1")},
		{"lambda-runtime-v2", binary("good", "lambda", "cmd", "lambda-v2")},
		{"lambda-runtime-function-url-streaming", binary("good", "lambda", "cmd", "function-url-streaming")},
		{"container", func() runner.Target {
			return container.Container(adapterDir("good", "standalone"), runner.WithoutImageCache())
		}},
	}
	base, _ := diffCorpusRate(b, modes[0].make, 3)
	for _, m := range modes {
		b.Run(m.name, func(b *testing.B) {
			if m.name == "container" {
				if err := container.DockerAvailable(context.Background()); err != nil {
					b.Skip(err)
				}
			}
			rate, n := diffCorpusRate(b, m.make, b.N)
			b.ReportMetric(rate, "req/s")
			b.ReportMetric(rate/base, "x-inprocess")
			b.ReportMetric(float64(n)/float64(b.N), "req/run")
		})
	}
}

// diffCorpusRate runs the DIFF specs runs times and returns the corpus's
// requests per second of the specs' time, and the requests sent.
func diffCorpusRate(b *testing.B, newTarget func() runner.Target, runs int) (float64, int) {
	b.Helper()
	var sent int
	var took time.Duration
	for range runs {
		res, err := suite.Run(nil, newTarget(), suite.Quiet(), suite.Fixtures("basic"), suite.Focus("DIFF-1", "DIFF-2", "DIFF-3", "DIFF-4", "DIFF-5"))
		if err != nil {
			b.Fatal(err)
		}
		if f := res.Failed(); len(f) > 0 {
			b.Fatalf("the good adapter failed %v", f)
		}
		sent += res.DiffRequests
		for _, o := range res.Outcomes {
			if strings.HasPrefix(o.Requirement, "DIFF-") {
				took += o.Duration
			}
		}
	}
	if sent == 0 || took == 0 {
		b.Fatalf("no corpus request was sent (%d in %v)", sent, took)
	}
	return float64(sent) / took.Seconds(), sent
}
