package suite_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/broken"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/contract"
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

// TestProc1ShowsTheEnvelope: an adapter written from a text that describes
// a bare declaration prints {"name":...}; PROC-1 fails saying that the
// declaration goes inside the envelope, with an example of it.
func TestProc1ShowsTheEnvelope(t *testing.T) {
	script := filepath.Join(t.TempDir(), "bare-declaration")
	body := `#!/bin/sh
if [ "$1" = --describe ] || [ "$ADAPTER_CONFORMANCE_DESCRIBE" = 1 ]; then
  echo '{"name":"bare","shapes":["start"],"exports":[]}'
  exit 0
fi
exec sleep 60
`
	if err := os.WriteFile(script, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	target := runner.Binary(script, runner.WithName("bare-declaration"), runner.WithReadinessTimeout(time.Second), runner.WithGracePeriod(time.Second))
	res, err := suite.Run(nil, target, suite.Quiet(), suite.Fixtures("basic"), suite.Focus("PROC-1"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := res.Messages("PROC-1")
	if len(msgs) != 1 {
		t.Fatalf("PROC-1 messages %q, want one failure", msgs)
	}
	for _, want := range []string{"bare setAdapter declaration", contract.ExampleDescription, contract.SchemaFile} {
		if !strings.Contains(msgs[0], want) {
			t.Errorf("the PROC-1 message lacks %q:\n%s", want, msgs[0])
		}
	}
	if strings.Contains(msgs[0], "contract version 0") {
		t.Errorf("the PROC-1 message speaks of a contract version the adapter never gave:\n%s", msgs[0])
	}
	expectNoLeftovers(t)
}

// TestLaterFailuresNameTheirCause: a catch-all route (b12 answers 200 for
// every path) fails NOTFOUND-1, and then EXPORT-4, whose second fixture
// lacks /about: EXPORT-4's message says it may follow from NOTFOUND-1. A
// start host that never became ready fails START-2, and the specs it
// stops say they follow from it.
func TestLaterFailuresNameTheirCause(t *testing.T) {
	res, err := suite.Run(nil, brokenTarget(t, "b12-notfound-200"), suite.Quiet(), suite.Fixtures("basic"), suite.Focus("NOTFOUND-1", "EXPORT-4"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := res.Messages("EXPORT-4")
	if len(msgs) == 0 {
		t.Fatalf("EXPORT-4 did not fail: failed %q", res.Failed())
	}
	for _, m := range msgs {
		if !strings.Contains(m, "this may follow from NOTFOUND-1, which failed earlier on the") || !strings.Contains(m, "expected: status 404") {
			t.Errorf("EXPORT-4 does not name NOTFOUND-1 as its cause:\n%s", m)
		}
	}

	res, err = suite.Run(nil, runner.InProcess("start-ignores-listener", brokenIntegration(t, "start-ignores-listener"), runner.WithReadinessTimeout(time.Second)),
		suite.Quiet(), suite.Fixtures("basic"), suite.Focus("START-2", "RENDER-1"))
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, o := range res.Outcomes {
		if o.Requirement == "RENDER-1" && o.Shape == "start" {
			found = true
			if o.State != "skipped" || !strings.Contains(o.Message, "follows from START-2, the start host never became ready: start did not answer HTTP") {
				t.Errorf("RENDER-1 on the start host: %s %q", o.State, o.Message)
			}
		}
	}
	if !found {
		t.Error("RENDER-1 did not run on the start host")
	}
}

// TestDiffFailureNamesTheFraming: a chunked body that arrives empty, while
// a Content-Length one arrives intact, fails DIFF-1 with a message that
// names the framing as the dimension that matters and shows the contrast:
// the same request with Content-Length, answered as the App answers it
// (issue 15, a minimal failing request).
func TestDiffFailureNamesTheFraming(t *testing.T) {
	const name = "chunked-body-lost"
	b, ok := brokenAdapter(name)
	if !ok {
		t.Fatalf("no broken adapter %s", name)
	}
	res, err := suite.Run(nil, runner.InProcess(name, b.Integration), suite.Quiet(), suite.Fixtures("basic"), suite.Focus("DIFF-1"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := res.Messages("DIFF-1")
	if len(msgs) != 1 {
		t.Fatalf("DIFF-1 messages %q, want one failure", msgs)
	}
	t.Log(msgs[0])
	for _, want := range []string{
		"the dimension that matters is framing (chunked);",
		"contrast (framing made plain): with Content-Length it arrives intact",
		"  > Transfer-Encoding: chunked\n", // the minimal request
		"  > Content-Length: ",             // the contrast's
		"rerun with --seed 1 --focus DIFF-1",
	} {
		if !strings.Contains(msgs[0], want) {
			t.Errorf("the DIFF-1 message lacks %q:\n%s", want, msgs[0])
		}
	}
}

func brokenAdapter(name string) (broken.Adapter, bool) {
	for _, b := range broken.All() {
		if b.Name == name {
			return b, true
		}
	}
	return broken.Adapter{}, false
}
