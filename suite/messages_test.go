package suite_test

import (
	"strings"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// TestStartMessagesSpeakOfTheProcess: out of process there is no Start
// function to return nil; START-5's message speaks of the process's exit
// status after SIGTERM.
func TestStartMessagesSpeakOfTheProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs an adapter as a process")
	}
	const name = "start-returns-server-closed"
	target := runner.Binary(adapterDir("broken"), runner.WithName(name), runner.WithEnv("BROKEN_ADAPTER="+name),
		runner.WithReadinessTimeout(5*time.Second), runner.WithGracePeriod(2*time.Second))
	res, err := suite.Run(nil, target, suite.Quiet(), suite.Fixtures("basic"), suite.Focus("START-5"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := res.Messages("START-5")
	if len(msgs) != 1 {
		t.Fatalf("START-5 messages %q, want one failure", msgs)
	}
	if !strings.Contains(msgs[0], "the process to exit with status 0") || strings.Contains(msgs[0], "Start to return") {
		t.Errorf("START-5 for a process speaks of Start:\n%s", msgs[0])
	}
	if !strings.Contains(msgs[0], "exited with status 1") {
		t.Errorf("START-5 does not give the exit status:\n%s", msgs[0])
	}
	expectNoLeftovers(t)
}
