package suite_test

import (
	"slices"
	"testing"

	"github.com/onsi/ginkgo/v2"
	"github.com/onsi/ginkgo/v2/extensions/globals"
	"github.com/onsi/ginkgo/v2/types"

	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/handler"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// specLabels registers the whole suite (without running it) and returns the
// requirement ID of every spec.
func specLabels(t *testing.T) map[string]int {
	t.Helper()
	globals.Reset()
	defer globals.Reset()
	suite.Register(runner.InProcess("preview", handler.Integration()))
	report := ginkgo.PreviewSpecs("adapter-conformance preview")
	ids := map[string]int{}
	for _, sr := range report.SpecReports {
		if sr.LeafNodeType != types.NodeTypeIt {
			continue
		}
		var found []string
		for _, l := range sr.Labels() {
			if _, ok := suite.RequirementByID(l); ok {
				found = append(found, l)
			}
		}
		if len(found) != 1 {
			t.Errorf("spec %q carries %d requirement IDs %v; want exactly one", sr.FullText(), len(found), found)
			continue
		}
		ids[found[0]]++
	}
	return ids
}

// TestEveryRequirementHasASpec is the contract between SPEC.md and the
// suite: a checked requirement without a spec, or a planned one with a
// spec, fails. (A spec naming an unknown requirement panics at registration,
// which fails this test too.)
func TestEveryRequirementHasASpec(t *testing.T) {
	reqs, err := suite.Requirements()
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) < 60 {
		t.Errorf("SPEC.md has %d requirements; the contract asks for at least 60", len(reqs))
	}
	specs := specLabels(t)
	for _, r := range reqs {
		switch {
		case r.Checked() && specs[r.ID] == 0:
			t.Errorf("%s is marked checked in SPEC.md but no spec names it", r.ID)
		case !r.Checked() && specs[r.ID] > 0 && r.Retired():
			t.Errorf("%s is retired in SPEC.md but %d specs name it", r.ID, specs[r.ID])
		case !r.Checked() && specs[r.ID] > 0:
			t.Errorf("%s is marked %q in SPEC.md but %d specs name it: mark it checked", r.ID, r.Status, specs[r.ID])
		}
	}
}

func TestParseRequirementsRejectsBrokenTables(t *testing.T) {
	head := "## DECL: x\n\n| ID | Level | Shapes | Modes | Status | Requirement | Source |\n|---|---|---|---|---|---|---|\n"
	for name, md := range map[string]string{
		"bad id":        head + "| DECL1 | MUST | all | all | checked | x | seed |\n",
		"wrong area":    head + "| HTTP-1 | MUST | all | all | checked | x | seed |\n",
		"duplicate":     head + "| DECL-1 | MUST | all | all | checked | x | seed |\n| DECL-1 | MUST | all | all | checked | y | seed |\n",
		"bad level":     head + "| DECL-1 | MAY | all | all | checked | x | seed |\n",
		"bad status":    head + "| DECL-1 | MUST | all | all | done | x | seed |\n",
		"missing cells": head + "| DECL-1 | MUST | all | checked | x | seed |\n",
		"no source":     head + "| DECL-1 | MUST | all | all | checked | x |  |\n",
		"empty":         "# nothing here\n",
	} {
		if _, err := suite.ParseRequirements([]byte(md)); err == nil {
			t.Errorf("%s: ParseRequirements accepted it", name)
		}
	}
	good := head + "| DECL-1 | MUST | all | inprocess,binary | checked | x | seed |\n"
	reqs, err := suite.ParseRequirements([]byte(good))
	if err != nil || len(reqs) != 1 || !slices.Equal(reqs[0].Modes, []string{"inprocess", "binary"}) {
		t.Errorf("ParseRequirements(good) = %+v, %v", reqs, err)
	}
}
