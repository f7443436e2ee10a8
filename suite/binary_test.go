package suite_test

import (
	"path/filepath"
	"testing"

	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

func adapterDir(parts ...string) string {
	return filepath.Join(append([]string{"..", "fixtures", "adapters"}, parts...)...)
}

// expectNoLeftovers fails when any process the kit started is still alive.
func expectNoLeftovers(t *testing.T) {
	t.Helper()
	if left := runner.Leftovers(); len(left) > 0 {
		t.Errorf("process groups left running: %v", left)
	}
}

func TestGoodAdaptersAsBinaries(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs every good adapter as a process")
	}
	for _, name := range []string{"standalone", "handler", "fetch"} {
		t.Run(name, func(t *testing.T) {
			target := runner.Binary(adapterDir("good", name), runner.WithName("good-"+name))
			res, err := suite.Run(nil, target, suite.Quiet(), suite.Fixtures("basic", "no-404", "base-app"))
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range res.Failed() {
				for _, msg := range res.Messages(id) {
					t.Errorf("%s failed:\n%s", id, msg)
				}
			}
			if len(res.Passed()) == 0 {
				t.Fatal("nothing passed")
			}
			expectNoLeftovers(t)
		})
	}
}
