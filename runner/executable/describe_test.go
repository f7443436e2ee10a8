package executable_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/runner/contract"
	"github.com/adapterconformance/adapter-conformance/runner/executable"
	"github.com/adapterconformance/adapter-conformance/runner/ownership"
)

// describeScript writes an executable shell script that plays an adapter's
// --describe.
func describeScript(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "adapter")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestDescribeMisbehaviour: what a --describe run does wrong comes back as
// an error that shows the cause, within bounds, and leaves nothing running.
func TestDescribeMisbehaviour(t *testing.T) {
	valid := fmt.Sprintf(`{"contract":%d}`, contract.Version)
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	for _, c := range []struct {
		name, script string
		wantErr      string // "" for a description
	}{
		{"fails, saying why on stderr",
			`echo "a lot of noise" >&2; head -c 100000 /dev/zero | tr '\0' . >&2; echo "fatal: adapter.config.json: no such file" >&2; exit 3`,
			"fatal: adapter.config.json: no such file"},
		{"prints more than a declaration could be",
			`head -c 3000000 /dev/zero | tr '\0' x`,
			"printed more than 1048576 bytes"},
		{"leaves a child running",
			`sleep 300 & echo $! > ` + pidFile + `; echo '` + valid + `'`,
			""},
	} {
		t.Run(c.name, func(t *testing.T) {
			desc, err := executable.Describe(t.Context(), describeScript(t, c.script), t.TempDir(), nil)
			switch {
			case c.wantErr == "" && err != nil:
				t.Fatalf("Describe: %v", err)
			case c.wantErr == "" && desc == nil:
				t.Fatal("no description")
			case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
				t.Fatalf("Describe error %v, want one containing %q", err, c.wantErr)
			case err != nil && len(err.Error()) > 4096:
				t.Errorf("the error is %d bytes long: it goes into every report", len(err.Error()))
			}
			// A killed grandchild is gone once init has reaped it.
			if left := eventually(ownership.Leftovers); len(left) > 0 {
				t.Errorf("process groups left running: %v", left)
			}
		})
	}
	if b, err := os.ReadFile(pidFile); err == nil {
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		alive := func() []int {
			if pid > 0 && syscall.Kill(pid, 0) == nil {
				return []int{pid}
			}
			return nil
		}
		if eventually(alive) != nil {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Errorf("the child that --describe left (pid %d) is still running", pid)
		}
	}
}

// eventually polls check until it finds nothing, for up to 5 s, and
// returns what it last found.
func eventually(check func() []int) []int {
	deadline := time.Now().Add(5 * time.Second)
	for {
		left := check()
		if len(left) == 0 || time.Now().After(deadline) {
			return left
		}
		time.Sleep(20 * time.Millisecond)
	}
}
