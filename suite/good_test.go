package suite_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/adapterconformance/adapter-conformance/fixtures"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/handler"
	goodlambda "github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/lambda"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/middleware"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/container"
	"github.com/adapterconformance/adapter-conformance/suite"
)

func TestGoodAdaptersPassEverything(t *testing.T) {
	// The positive controls, from the registry: each must pass every
	// requirement that applies to it.
	byName := map[string]good.Adapter{}
	for _, g := range good.All() {
		byName[g.Name] = g
	}
	eachInChild(t, func(t *testing.T, name string) {
		g := byName[name]
		// No fixtures named: every fixture, in the default order.
		res := expectAllPass(t, runner.InProcess(g.Name, g.Integration))
		t.Logf("%d requirements passed", len(res.Passed()))
	})
}

// goodInProcessNames are the good adapters run in process: all of them.
func goodInProcessNames() []string {
	var names []string
	for _, g := range good.All() {
		names = append(names, g.Name)
	}
	return names
}

// TestEveryExportOfAShapeIsDriven: an adapter exporting both a handler and
// a middleware (two handler-shaped exports) has the specs of the handler
// shape run against each, and a good one passes them all.
func TestEveryExportOfAShapeIsDriven(t *testing.T) {
	both := middleware.WithHandler("good-handler-and-middleware", middleware.New)
	res, err := suite.Run(nil, runner.InProcess("good-handler-and-middleware", both), suite.Quiet(), suite.Fixtures("basic"))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range res.Failed() {
		for _, msg := range res.Messages(id) {
			t.Errorf("%s failed:\n%s", id, msg)
		}
	}
	// Each export gets the whole set of handler-shape specs; which pass
	// and which do not apply differ (MATCH-1..3 apply to a middleware only).
	ran, passed := map[string]int{}, map[string]int{}
	for _, o := range res.Outcomes {
		for _, export := range []string{"handler", "middleware"} {
			if strings.Contains(o.Spec, "host handler export "+export+" ") {
				ran[export]++
				if o.State == "passed" {
					passed[export]++
				}
			}
		}
	}
	if ran["handler"] == 0 || ran["handler"] != ran["middleware"] || passed["handler"] == 0 || passed["middleware"] == 0 {
		t.Errorf("specs run per export %v, passed %v; want the same specs run against each export", ran, passed)
	}
	t.Logf("specs run per export %v, passed %v", ran, passed)
}

// TestGeneralSpecsRunOnBasicOnly: the general specs are written for basic's
// routes, so a run given variants only (a base path, trailing slashes) runs
// their own specs and not the general ones, which would fail a good
// adapter; basic named after a variant still gets them, and an exported
// copy of basic counts as basic.
func TestGeneralSpecsRunOnBasicOnly(t *testing.T) {
	exported := t.TempDir()
	if err := fixtures.Export("basic", exported); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name     string
		fixtures []string
		general  bool
	}{
		{"variants only", []string{"trailing-always", "base-app"}, false},
		{"basic after a variant", []string{"trailing-never", "basic"}, true},
		{"basic exported to a directory", []string{exported}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := suite.Run(nil, runner.InProcess(handler.Name, handler.Integration()), suite.Quiet(), suite.Fixtures(c.fixtures...))
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range res.Failed() {
				t.Errorf("%s failed for a good adapter:\n%s", id, strings.Join(res.Messages(id), "\n"))
			}
			if ran := slices.Contains(res.Passed(), "RENDER-1"); ran != c.general {
				t.Errorf("RENDER-1 (a general spec) passed: %v, want %v", ran, c.general)
			}
			if len(res.Passed()) == 0 {
				t.Error("nothing passed: the variants' own specs did not run")
			}
			if res.Declaration == nil {
				t.Errorf("no declaration recorded: %s", res.DeclarationError)
			}
		})
	}
}

// diffTargets are the good adapters the differential corpus runs against in
// each mode: in-process, as binaries (a standalone server, a handler
// export's own main, Lambda functions under the kit's Runtime API for each
// gateway, response streaming included), and as containers.
var diffTargets = []diffTarget{
	{"inprocess", handler.Name, func(*testing.T) runner.Target { return runner.InProcess(handler.Name, handler.Integration()) }},
	{"inprocess", goodlambda.NameV2, func(*testing.T) runner.Target { return runner.InProcess(goodlambda.NameV2, goodlambda.IntegrationV2()) }},
	{"binary", "standalone", func(t *testing.T) runner.Target {
		return runner.Binary(builtAdapter(t, "good", "standalone"), runner.WithName("good-standalone"))
	}},
	{"binary", "handler", func(t *testing.T) runner.Target {
		return runner.Binary(builtAdapter(t, "good", "handler"), runner.WithName("good-handler"))
	}},
	{"binary", "lambda-v1", func(t *testing.T) runner.Target {
		return runner.Binary(builtAdapter(t, "good", "lambda", "cmd", "lambda-v1"), runner.WithName("good-lambda-v1"))
	}},
	{"binary", "lambda-v2", func(t *testing.T) runner.Target {
		return runner.Binary(builtAdapter(t, "good", "lambda", "cmd", "lambda-v2"), runner.WithName("good-lambda-v2"))
	}},
	{"binary", "function-url-streaming", func(t *testing.T) runner.Target {
		return runner.Binary(builtAdapter(t, "good", "lambda", "cmd", "function-url-streaming"), runner.WithName("good-function-url-streaming"))
	}},
	{"container", "standalone", func(*testing.T) runner.Target {
		return container.Container(adapterDir("good", "standalone"), runner.WithName("good-standalone"), runner.WithoutImageCache())
	}},
	{"container", "lambda-v2", func(*testing.T) runner.Target {
		return container.Container(adapterDir("good", "lambda", "cmd", "lambda-v2"), runner.WithName("good-lambda-v2"), runner.WithoutImageCache())
	}},
}

// diffTarget is a good adapter in one mode, for the DIFF corpus.
type diffTarget struct {
	mode, name string
	make       func(t *testing.T) runner.Target
}

// kind is what a child running this target spends its time on.
func (g diffTarget) kind() childKind {
	switch g.mode {
	case "binary":
		return processChild
	case "container":
		return engineChild
	}
	return inProcessChild
}

// diffRun is one run of TestGoodAdaptersPassTheDiffCorpusInEveryMode: a
// target at a seed.
type diffRun struct {
	target diffTarget
	seed   uint64
}

// diffRunSeeds are the seeds each good adapter runs the corpus with, besides
// the default one of every other test.
var diffRunSeeds = []uint64{2, 3, 20261204}

func diffRunName(g diffTarget, seed uint64) string {
	return fmt.Sprintf("%s/%s/seed-%d", g.mode, g.name, seed)
}

// diffRuns are the runs by subtest name; diffRunNames their names in order.
func diffRuns() map[string]diffRun {
	runs := map[string]diffRun{}
	for _, g := range diffTargets {
		for _, seed := range diffRunSeeds {
			runs[diffRunName(g, seed)] = diffRun{g, seed}
		}
	}
	return runs
}

func diffRunNames() []string {
	var names []string
	for _, g := range diffTargets {
		for _, seed := range diffRunSeeds {
			names = append(names, diffRunName(g, seed))
		}
	}
	return names
}

// TestGoodAdaptersPassTheDiffCorpusInEveryMode: the differential corpus
// changes with its seed, and a good adapter gets the App's answer to each
// request whatever the seed and however it runs (DIFF-1..5). Out of
// process the kit renders the App itself, so this is what shows that the
// client and the kit's App agree on the request (its Host, its peer).
func TestGoodAdaptersPassTheDiffCorpusInEveryMode(t *testing.T) {
	runs := diffRuns()
	eachInChild(t, func(t *testing.T, name string) {
		g, seed := runs[name].target, runs[name].seed
		if g.mode != "inprocess" && testing.Short() {
			t.Skip("builds and runs the adapter out of process")
		}
		if g.mode == "container" {
			needDocker(t)
		}
		res, err := suite.Run(nil, g.make(t), suite.Quiet(), suite.Fixtures("basic", "base-app"),
			suite.Focus("DIFF-1", "DIFF-2", "DIFF-3", "DIFF-4", "DIFF-5"), suite.Seed(seed))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range res.Failed() {
			t.Errorf("%s failed at seed %d:\n%s", id, seed, strings.Join(res.Messages(id), "\n"))
		}
		want := []string{"DIFF-1", "DIFF-2", "DIFF-3", "DIFF-4"}
		if g.mode == "inprocess" && g.name != goodlambda.NameV2 {
			// The peer dimension: the kit's own listener accepts on ::1
			// in process, not behind a Lambda gateway (SPEC.md, DIFF).
			want = append(want, "DIFF-5")
		}
		if got := res.Passed(); !slices.Equal(got, want) {
			t.Errorf("passed %q, want %q", got, want)
		}
		if res.Seed != seed {
			t.Errorf("results name seed %d, want %d", res.Seed, seed)
		}
		expectNoLeftovers(t)
	})
}
