package runner_test

import (
	"strings"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner"
)

// TestTimeoutsAreOneConfig: a target's waits are the defaults under what
// its options set, the shorthands set the same fields as WithTimeouts, and
// ParseTimeouts (the CLI's --timeouts) reads what String writes and names
// what it does not know.
func TestTimeoutsAreOneConfig(t *testing.T) {
	def := runner.DefaultTimeouts()
	got := runner.TimeoutsOf(runner.InProcess("x", app.Integration{},
		runner.WithTimeouts(runner.Timeouts{Request: 3 * time.Second}),
		runner.WithReadinessTimeout(2*time.Second), runner.WithGracePeriod(time.Second)))
	want := def
	want.Request, want.Readiness, want.Grace = 3*time.Second, 2*time.Second, time.Second
	if got != want {
		t.Errorf("TimeoutsOf = %v, want %v", got, want)
	}
	if b := runner.TimeoutsOf(runner.Binary("x")); b != def {
		t.Errorf("a binary target with no options waits %v, want the defaults %v", b, def)
	}
	back, err := runner.ParseTimeouts(def.String())
	if err != nil || back != def {
		t.Errorf("ParseTimeouts(%q) = %v, %v; want the defaults", def.String(), back, err)
	}
	p, err := runner.ParseTimeouts("readiness=20s, grace=5s")
	if err != nil || p != (runner.Timeouts{Readiness: 20 * time.Second, Grace: 5 * time.Second}) {
		t.Errorf("ParseTimeouts = %v, %v", p, err)
	}
	for _, bad := range []string{"readyness=1s", "grace", "grace=soon", "grace=-1s"} {
		if _, err := runner.ParseTimeouts(bad); err == nil || !strings.Contains(err.Error(), "timeouts") {
			t.Errorf("ParseTimeouts(%q) = %v, want an error naming the problem", bad, err)
		}
	}
}
