package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/broken"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good"
)

// TestBuiltinTargetsAreTheRegistries: `list --targets` offers exactly the
// good adapters (builtin:NAME) and the broken ones (builtin:broken-NAME) of
// the two registries, each target named for its adapter, so an adapter
// cannot be registered and missing from the CLI (as
// good-function-url-streaming was from the hand-kept list) or the reverse.
func TestBuiltinTargetsAreTheRegistries(t *testing.T) {
	want := map[string]string{} // builtin name -> target name
	for _, g := range good.All() {
		want[g.Name] = g.Name
	}
	for _, b := range broken.All() {
		want["broken-"+b.Name] = b.Name
	}
	var out, errOut bytes.Buffer
	if code := run([]string{"list", "--targets"}, &out, &errOut); code != exitPass {
		t.Fatalf("list --targets: exit %d, stderr:\n%s", code, errOut.String())
	}
	var listed []string
	for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		name, ok := strings.CutPrefix(line, "builtin:")
		if !ok {
			t.Errorf("list --targets printed %q, not a builtin:NAME", line)
		}
		listed = append(listed, name)
	}
	for n := range want {
		if !slices.Contains(listed, n) {
			t.Errorf("builtin:%s is in a registry but not offered by list --targets", n)
		}
	}
	for _, n := range listed {
		if _, ok := want[n]; !ok {
			t.Errorf("list --targets offers builtin:%s, which no registry holds", n)
		}
	}
	if !slices.IsSorted(listed) || len(slices.Compact(slices.Clone(listed))) != len(listed) {
		t.Errorf("list --targets is not sorted and unique: %q", listed)
	}
	for n, target := range builtinTargets() {
		if target.Name() != want[n] {
			t.Errorf("builtin:%s runs a target named %q, want %q", n, target.Name(), want[n])
		}
	}
}
