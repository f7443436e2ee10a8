package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/reports"
	"github.com/adapterconformance/adapter-conformance/runner/container"
	"github.com/adapterconformance/adapter-conformance/runner/ownership"
	"golang.org/x/sys/unix"
)

// faultScenario is one row of the fault matrix: a CLI run in binary mode
// against an adapter or an input that goes wrong in one way, and what the
// run must end with.
type faultScenario struct {
	name string
	// args follow "run"; --report-dir is added.
	args []string
	env  []string
	// interruptAt, when set, is polled with the scenario's directory and
	// the CLI's pid; once it holds, the CLI gets SIGINT.
	interruptAt func(dir string, pid int) bool
	code        int
	verdict     string
	// failed are requirements that must be among the report's failures.
	failed []string
	// inReport must appear in report.json's runError, incomplete or the
	// messages of its specs.
	inReport string
	// container: the run is in container mode; its containers and images
	// are counted too.
	container bool
}

// faultRun is what one scenario's run left: its exit status, its reports,
// and whatever of it outlived it.
type faultRun struct {
	code      int
	stderr    string
	reportDir string
	// leftProcesses are live processes carrying the run's owner mark;
	// leftFiles what the run left in its private TMPDIR.
	leftProcesses []string
	leftFiles     []string
	// leftDocker are containers and images labelled with the run's owner.
	leftDocker []string
	err        error
}

// TestFaultMatrix (issue 16 item 10) drives the CLI, built once, through
// the faults a hostile environment and broken adapters bring, in binary
// mode: SIGINT during the build and during the specs, --timeout, an
// adapter that hangs, never listens, crashes, floods its output, ignores
// SIGTERM, leaves a setsid child, or writes garbage on the socket; a
// malformed fixture; a 100,000-route manifest. After each run it checks
// the exit status, the four report files and the verdict each states, and
// that nothing of the run is left: no live process carrying the run's
// ADAPTER_CONFORMANCE_OWNER mark (runner/ownership.go: the kit puts it on
// every process it starts, and descendants inherit it), and nothing in the
// run's private TMPDIR, where the kit makes every directory it owns. The
// runs are independent (each its own TMPDIR, report directory and owner),
// so they run at once: most of them wait on a clock, not a core.
func TestFaultMatrix(t *testing.T) {
	dir, cli, _ := cliSandbox(t)
	// The adapters are built once: a directory target would be built by
	// every run (the build-interrupt row is the one that builds).
	broken := buildExecutable(t, dir, "../../fixtures/adapters/broken/cmd/broken-adapter")
	hanging := buildExecutable(t, dir, "../../suite/testdata/hanging-adapter")
	standalone := buildExecutable(t, dir, "../../fixtures/adapters/good/standalone/cmd/standalone-adapter")
	huge := hugeFixture(t, filepath.Join(dir, "huge-app"), 100_000)
	markFile := func(name string) func(string, int) bool {
		return func(d string, _ int) bool { _, err := os.Stat(filepath.Join(d, name)); return err == nil }
	}
	scenarios := []faultScenario{
		{
			name: "SIGINT during the build", args: []string{"--target", "../../fixtures/adapters/good/standalone"},
			// A -toolexec wrapper holds the build at its first tool (see
			// TestInterruptDuringBuild) and marks that moment.
			env:         []string{"GOFLAGS=-toolexec=" + blockingTool(t, dir)},
			interruptAt: markFile("tool-started"),
			code:        exitCannotRun, verdict: reports.VerdictInconclusive, inReport: "interrupted",
		},
		{
			name: "SIGINT during the specs", args: []string{"--target", hanging, "--fixture", "basic"},
			env:         []string{"HANGING_ADAPTER_MARK=about-requested"},
			interruptAt: markFile("about-requested"),
			code:        exitCannotRun, verdict: reports.VerdictInconclusive, inReport: "interrupted",
		},
		{
			name: "--timeout runs out mid-spec", args: []string{"--target", hanging, "--fixture", "basic", "--timeout", "6s"},
			code: exitCannotRun, verdict: reports.VerdictInconclusive, inReport: "time limit",
		},
		{
			name: "adapter hangs on every request", args: []string{"--target", broken},
			env:  []string{"BROKEN_ADAPTER=process-hangs"},
			code: exitFail, verdict: reports.VerdictFail, failed: []string{"START-2"},
			// Every fixture, judged once (issue 19 item 4).
			inReport: "cannot be checked: the adapter could not be served on fixture",
		},
		{
			name: "adapter never listens", args: []string{"--target", broken, "--fixture", "basic"},
			env:  []string{"BROKEN_ADAPTER=process-never-ready"},
			code: exitFail, verdict: reports.VerdictFail, failed: []string{"START-1", "START-2", "START-6"}, inReport: "connection refused",
		},
		{
			name: "adapter crashes", args: []string{"--target", broken, "--fixture", "basic"},
			env:  []string{"BROKEN_ADAPTER=process-crashes-on-error"},
			code: exitFail, verdict: reports.VerdictFail, failed: []string{"PROC-6"}, inReport: "unhandled error in /api/throws: exiting",
		},
		{
			name: "adapter floods its --describe output", args: []string{"--target", broken, "--fixture", "basic"},
			env:  []string{"BROKEN_ADAPTER=process-describe-floods"},
			code: exitFail, verdict: reports.VerdictFail, failed: []string{"PROC-1"}, inReport: "printed more than",
		},
		{
			name: "adapter ignores SIGTERM", args: []string{"--target", broken, "--fixture", "basic"},
			env:  []string{"BROKEN_ADAPTER=process-ignores-sigterm"},
			code: exitFail, verdict: reports.VerdictFail, failed: []string{"START-5"}, inReport: "of SIGTERM and was killed",
		},
		{
			name: "adapter leaves a setsid child", args: []string{"--target", broken, "--fixture", "basic"},
			env:  []string{"BROKEN_ADAPTER=process-leaves-child"},
			code: exitFail, verdict: reports.VerdictFail, failed: []string{"PROC-8"}, inReport: "still running: pid",
		},
		{
			name: "adapter writes garbage on the socket", args: []string{"--target", broken, "--fixture", "basic"},
			env:  []string{"BROKEN_ADAPTER=process-writes-garbage"},
			code: exitFail, verdict: reports.VerdictFail, failed: []string{"START-2"}, inReport: "malformed HTTP",
		},
		{
			name: "malformed fixture", args: []string{"--target", standalone, "--fixture", "../../fixtures/testdata/broken"},
			code: exitCannotRun, verdict: reports.VerdictInconclusive, inReport: "manifest.json",
		},
		{
			name: "100,000-route manifest", args: []string{"--target", standalone, "--fixture", huge},
			code: exitPass, verdict: reports.VerdictPass,
		},
	}
	runs := make([]faultRun, len(scenarios))
	var wg sync.WaitGroup
	for i, s := range scenarios {
		wg.Go(func() { runs[i] = runFault(cli, filepath.Join(dir, "scenario-"+strconv.Itoa(i)), s) })
	}
	wg.Wait()
	for i, s := range scenarios {
		t.Run(s.name, func(t *testing.T) { checkFault(t, s, runs[i]) })
	}
}

// faultRunLimit is how long a scenario's CLI may run before the test
// kills it and fails: a guard against a hang, not a bound on speed. A
// container scenario builds its image cold, and the container scenarios
// run at once, beside the suite package's tests (README's test command
// starts those first): on CI a cold build alone took 62 s, and 90 s was
// too little for the whole run.
const faultRunLimit = 4 * time.Minute

// runFault runs one scenario in its own directory, with its own TMPDIR
// and report directory, and collects what the run left behind.
func runFault(cli, dir string, s faultScenario) faultRun {
	tmp := filepath.Join(dir, "tmp")
	out := faultRun{reportDir: filepath.Join(dir, "report")}
	if err := os.MkdirAll(tmp, 0o755); err != nil {
		out.err = err
		return out
	}
	cmd := exec.Command(cli, append(append([]string{"run"}, s.args...), "--report-dir", out.reportDir)...)
	cmd.Dir = "."
	cmd.Env = append(append(os.Environ(), "TMPDIR="+tmp, "FAULT_DIR="+dir), s.env...)
	for i, kv := range cmd.Env {
		// Marks are files in the scenario's directory.
		if v, ok := strings.CutPrefix(kv, "HANGING_ADAPTER_MARK="); ok {
			cmd.Env[i] = "HANGING_ADAPTER_MARK=" + filepath.Join(dir, v)
		}
	}
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		out.err = err
		return out
	}
	owner := strconv.Itoa(cmd.Process.Pid) + "."
	// The CLI is waited for without being reaped (WNOWAIT) until what it
	// left has been counted: while it is a zombie its owner token still
	// names a live process, so the dead-run sweep of a concurrent row
	// cannot remove (and so hide) what this run leaked.
	done := make(chan error, 1)
	go func() {
		var info unix.Siginfo
		for {
			err := unix.Waitid(unix.P_PID, cmd.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
			if err != unix.EINTR {
				done <- err
				return
			}
		}
	}()
	limit := time.After(faultRunLimit)
	interrupted := s.interruptAt == nil
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
wait:
	for {
		select {
		case <-done:
			break wait
		case <-limit:
			cmd.Process.Kill()
			<-done
			out.err = fmt.Errorf("the CLI was still running after %s", faultRunLimit)
			break wait
		case <-tick.C:
			if !interrupted && s.interruptAt(dir, cmd.Process.Pid) {
				cmd.Process.Signal(syscall.SIGINT)
				interrupted = true
			}
		}
	}
	if out.err == nil && !interrupted {
		out.err = fmt.Errorf("the moment to interrupt the CLI never came")
	}
	// A killed process is gone once it is reaped: a moment after the CLI.
	deadline := time.Now().Add(2 * time.Second)
	for {
		out.leftProcesses = ownedBy(owner)
		if len(out.leftProcesses) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, p := range out.leftProcesses {
		if pid, err := strconv.Atoi(strings.Fields(p)[0]); err == nil {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	if s.container {
		out.leftDocker = ownedDocker(cmd.Process.Pid)
	}
	cmd.Wait()
	out.code = cmd.ProcessState.ExitCode()
	out.stderr = stderr.String()
	entries, _ := os.ReadDir(tmp)
	for _, e := range entries {
		out.leftFiles = append(out.leftFiles, e.Name())
	}
	return out
}

// checkFault asserts one scenario's outcome.
func checkFault(t *testing.T, s faultScenario, run faultRun) {
	if run.err != nil {
		t.Fatalf("%v; output:\n%s", run.err, tail(run.stderr))
	}
	if run.code != s.code {
		t.Errorf("exit %d, want %d; output:\n%s", run.code, s.code, tail(run.stderr))
	}
	for _, p := range run.leftProcesses {
		t.Errorf("a process the run started outlived it: %s", p)
	}
	for _, d := range run.leftDocker {
		t.Errorf("left by the run in the container engine: %s", d)
	}
	for _, f := range run.leftFiles {
		t.Errorf("left in the run's TMPDIR: %s", f)
	}
	r, err := reports.Read(filepath.Join(run.reportDir, reports.JSONFile))
	if err != nil {
		t.Fatalf("report.json: %v; output:\n%s", err, tail(run.stderr))
	}
	if r.Summary.Verdict != s.verdict {
		t.Errorf("report.json verdict %q, want %q (runError %q, incomplete %q)", r.Summary.Verdict, s.verdict, r.RunError, r.Incomplete)
	}
	var failed []string
	for _, q := range r.Failures() {
		failed = append(failed, q.ID)
	}
	for _, id := range s.failed {
		if !slices.Contains(failed, id) {
			t.Errorf("%s is not among the failures %q", id, failed)
		}
	}
	if s.inReport != "" {
		text, _ := json.Marshal(r)
		// Marshal escapes <, > and &; the wanted texts have none.
		if !strings.Contains(string(text), s.inReport) && !strings.Contains(r.RunError+r.Incomplete, s.inReport) {
			t.Errorf("report.json does not say %q (runError %q, incomplete %q)", s.inReport, r.RunError, r.Incomplete)
		}
	}
	// Each other file states the same verdict where a reader looks first.
	for file, want := range map[string]string{
		reports.JUnitFile:    `name="verdict" value="` + s.verdict + `"`,
		reports.HTMLFile:     `<span class="verdict ` + s.verdict + `">` + s.verdict + `</span>`,
		reports.MarkdownFile: "# adapter-conformance: " + strings.ToUpper(s.verdict),
	} {
		b, err := os.ReadFile(filepath.Join(run.reportDir, file))
		if err != nil {
			t.Errorf("%s: %v", file, err)
			continue
		}
		if !strings.Contains(string(b), want) {
			t.Errorf("%s does not state the verdict as %q", file, want)
		}
	}
}

// ownedBy lists the live processes whose ADAPTER_CONFORMANCE_OWNER mark
// names a kit process whose token starts with owner ("<pid>."), as
// "<pid> <command line>".
func ownedBy(owner string) []string {
	entries, _ := os.ReadDir("/proc")
	mark := []byte(ownership.OwnerEnv + "=" + owner)
	var out []string
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil || zombie(pid) {
			continue
		}
		for kv := range bytes.SplitSeq(env, []byte{0}) {
			if bytes.HasPrefix(kv, mark) {
				cmdline, _ := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
				out = append(out, e.Name()+" "+strings.TrimSpace(strings.ReplaceAll(string(cmdline), "\x00", " ")))
				break
			}
		}
	}
	return out
}

// buildExecutable builds the main package in pkg into dir.
func buildExecutable(t *testing.T, dir, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, filepath.Base(pkg))
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("building %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// blockingTool is a -toolexec wrapper that marks, in the scenario's
// directory ($FAULT_DIR), that a tool of the build started, and then
// blocks: the build is held there until the kit stops it.
func blockingTool(t *testing.T, dir string) string {
	t.Helper()
	tool := filepath.Join(dir, "blocking-tool")
	if err := os.WriteFile(tool, []byte("#!/bin/sh\ntouch \"$FAULT_DIR/tool-started\"\nexec sleep 300\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return tool
}

// hugeFixture writes a fixture app of n page routes besides the index
// page, for the kit and the adapter to load, export and serve.
func hugeFixture(t *testing.T, dir string, n int) string {
	t.Helper()
	type page struct {
		Title string `json:"title"`
	}
	type route struct {
		Route string `json:"route"`
		Type  string `json:"type"`
		Page  page   `json:"page"`
	}
	routes := []route{{"/", "page", page{"Home"}}}
	for i := range n {
		routes = append(routes, route{fmt.Sprintf("/section-%d/page-%d", i%100, i), "page", page{"Page " + strconv.Itoa(i)}})
	}
	b, err := json.Marshal(map[string]any{"name": "huge", "routes": routes})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// tail is the end of a run's output, for a failure message.
func tail(s string) string {
	if len(s) <= 3000 {
		return s
	}
	return "..." + s[len(s)-3000:]
}

// TestFaultMatrixContainers adds container-mode rows to the fault matrix:
// a run to the end and a run interrupted while its container serves. After
// each, no container or image carrying the run's owner labels is left.
func TestFaultMatrixContainers(t *testing.T) {
	if err := container.DockerAvailable(t.Context()); err != nil {
		t.Skipf("no container engine: %v", err)
	}
	t.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
	dir, cli, _ := cliSandbox(t)
	// Without the image cache, so that the image is the run's to remove
	// too (a cached one is kept on purpose: runner/container tests that).
	args := []string{"--target", "../../fixtures/adapters/good/standalone", "--mode", "container", "--fixture", "basic", "--no-image-cache"}
	scenarios := []faultScenario{
		{name: "container run to the end", args: args, container: true, code: exitPass, verdict: reports.VerdictPass},
		{
			name: "SIGINT while the container serves", args: args, container: true,
			interruptAt: func(_ string, pid int) bool {
				out, _ := exec.Command("docker", "ps", "-q", "--filter", "label="+container.LabelOwnerPID+"="+strconv.Itoa(pid)).Output()
				return len(bytes.TrimSpace(out)) > 0
			},
			code: exitCannotRun, verdict: reports.VerdictInconclusive, inReport: "interrupted",
		},
	}
	// The broken adapter's faults in a container: one local image per
	// fault (the bug chosen by its ENV, as a user's image would fix its
	// configuration), named as the --target. Each image is the test's
	// own, labelled and removed by it; the run must leave nothing of its.
	for _, f := range []struct {
		name, bug string
		failed    []string
		inReport  string
	}{
		{"container hangs on every request", "process-hangs", []string{"START-1", "START-2"}, "cannot be checked: the adapter could not be served on fixture basic"},
		{"container never listens", "process-never-ready", []string{"START-1", "START-2", "START-6"}, "start did not answer HTTP"},
		// The report shows what the engine kept of the container's output
		// (the process's 2 MiB of debug lines). Not its last line: under
		// CI's load the engine's log of an exited container lacked the
		// crash line and up to 180 KiB before it, even read once the log
		// had stopped growing (runner/container waitOutputSettled); the
		// binary fault matrix and TestBrokenAdaptersAsBinaries show that
		// the kit keeps the last line of what reaches it.
		{"container crashes", "process-crashes-on-error", []string{"PROC-6"}, "request-scoped logger initialised"},
		{"container ignores SIGTERM", "process-ignores-sigterm", []string{"START-5"}, "of SIGTERM and was killed"},
	} {
		image := brokenImage(t, dir, f.bug)
		scenarios = append(scenarios, faultScenario{
			name: f.name, args: []string{"--target", image, "--mode", "container", "--fixture", "basic", "--fixture", "no-404"}, container: true,
			code: exitFail, verdict: reports.VerdictFail, failed: f.failed, inReport: f.inReport,
		})
	}
	runs := make([]faultRun, len(scenarios))
	var wg sync.WaitGroup
	for i, s := range scenarios {
		wg.Go(func() { runs[i] = runFault(cli, filepath.Join(dir, "scenario-"+strconv.Itoa(i)), s) })
	}
	wg.Wait()
	for i, s := range scenarios {
		t.Run(s.name, func(t *testing.T) { checkFault(t, s, runs[i]) })
	}
}

// faultImageLabel marks the images TestFaultMatrixContainers builds, so
// that it removes them (and only them).
const faultImageLabel = "adapter-conformance.test=fault-matrix"

// brokenImage builds a local image FROM scratch of the broken adapter,
// with BROKEN_ADAPTER set to bug, and removes it when the test ends.
func brokenImage(t *testing.T, dir, bug string) string {
	t.Helper()
	ctxDir := filepath.Join(dir, "image-"+bug)
	if err := os.MkdirAll(ctxDir, 0o755); err != nil {
		t.Fatal(err)
	}
	build := exec.Command("go", "build", "-o", filepath.Join(ctxDir, "adapter"), "../../fixtures/adapters/broken/cmd/broken-adapter")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the broken adapter: %v\n%s", err, out)
	}
	dockerfile := "FROM scratch\nCOPY adapter /adapter\nENV BROKEN_ADAPTER=" + bug + "\nEXPOSE 8080\nENTRYPOINT [\"/adapter\"]\n"
	if err := os.WriteFile(filepath.Join(ctxDir, "Dockerfile"), []byte(dockerfile), 0o644); err != nil {
		t.Fatal(err)
	}
	tag := "adapter-conformance-fault/" + bug + ":" + strconv.Itoa(os.Getpid())
	if out, err := exec.Command("docker", "build", "-q", "--label", faultImageLabel, "-t", tag, ctxDir).CombinedOutput(); err != nil {
		t.Fatalf("docker build %s: %v\n%s", tag, err, out)
	}
	t.Cleanup(func() { exec.Command("docker", "rmi", "-f", tag).Run() })
	return tag
}

// ownedDocker lists the containers and images (intermediate ones too)
// whose owner labels name the kit process pid on this host.
func ownedDocker(pid int) []string {
	host, _ := os.Hostname()
	var out []string
	for _, q := range [][]string{
		{"ps", "-a", "--format", "container {{.ID}} {{.Image}} {{.Status}}", "--filter", "label=" + container.LabelOwnerPID + "=" + strconv.Itoa(pid)},
		{"images", "-a", "--format", "image {{.ID}} {{.Repository}}:{{.Tag}}", "--filter", "label=" + container.LabelOwnerPID + "=" + strconv.Itoa(pid)},
	} {
		b, err := exec.Command("docker", q...).Output()
		if err != nil {
			out = append(out, fmt.Sprintf("docker %s: %v", strings.Join(q, " "), err))
			continue
		}
		for _, l := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if l != "" {
				out = append(out, l)
			}
		}
	}
	// The build-owner label ("<host>/<pid>/<build id>") is on every image a
	// build made, the intermediate ones of an interrupted build included.
	ids, err := exec.Command("docker", "images", "-a", "-q", "--filter", "label="+container.LabelBuildOwner).Output()
	if err != nil || len(bytes.TrimSpace(ids)) == 0 {
		return out
	}
	// One inspect per image: another test's run or sweep may remove an
	// image between the listing and its inspection, and an image that is
	// gone was not left behind.
	for _, id := range strings.Fields(string(ids)) {
		var stderr bytes.Buffer
		inspect := exec.Command("docker", "image", "inspect", "--format", `{{.Id}} {{index .Config.Labels "`+container.LabelBuildOwner+`"}}`, id)
		inspect.Stderr = &stderr
		b, err := inspect.Output()
		if err != nil {
			if !strings.Contains(strings.ToLower(stderr.String()), "no such image") {
				out = append(out, fmt.Sprintf("docker image inspect %s: %v: %s", id, err, strings.TrimSpace(stderr.String())))
			}
			continue
		}
		if f := strings.Fields(string(b)); len(f) == 2 && strings.HasPrefix(f[1], host+"/"+strconv.Itoa(pid)+"/") {
			out = append(out, "image "+strings.TrimSpace(string(b)))
		}
	}
	return out
}
