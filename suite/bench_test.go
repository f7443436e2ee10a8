package suite_test

import (
	"testing"

	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/handler"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/standalone"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// BenchmarkFullRun is the wall time of a whole in-process run against one
// good adapter, every fixture included; "basic-only" runs the primary fixture
// alone. Compare the two as a ratio within one run: this machine is noisy.
func BenchmarkFullRun(b *testing.B) {
	for _, c := range []struct {
		name   string
		target runner.Target
		opts   []suite.Option
	}{
		{"handler/all-fixtures", runner.InProcess(handler.Name, handler.Integration()), nil},
		{"handler/basic-only", runner.InProcess(handler.Name, handler.Integration()), []suite.Option{suite.Fixtures("basic")}},
		{"standalone/all-fixtures", runner.InProcess(standalone.Name, standalone.Integration()), nil},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				res, err := suite.Run(nil, c.target, append(c.opts, suite.Quiet())...)
				if err != nil {
					b.Fatal(err)
				}
				if f := res.Failed(); len(f) > 0 {
					b.Fatalf("good adapter failed %v", f)
				}
			}
		})
	}
}
