// Package ownership marks what a run of the kit starts as its own, and
// cleans up after it: the adapter processes, with everything they start in
// turn, and the temporary directories. A target that stops finds every
// descendant of its adapter by these marks (PROC-8), a run finds what a dead
// run left behind without touching what a live concurrent run owns
// (SweepDeadRuns), and a test checks that nothing is left running
// (Leftovers).
//
// It is apart from runner so that every place that starts a process (the
// targets in runner, the build and --describe in runner/executable, the
// container target) marks it one way; it depends on the standard library
// only.
package ownership

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Every process the kit starts carries two environment variables, which its
// descendants inherit even when they leave its process group (setsid):
//   - OwnerEnv names the kit process that started it (its pid and its start
//     time, so a reused pid is not mistaken for it);
//   - processEnv names the one adapter process it descends from (NextProcessID).
//
// The kit's temporary directories carry the same owner in their names. So a
// target that stops can find and kill every descendant of its adapter
// (PROC-8), and a run can find what a dead run left behind (its owner is no
// longer alive) without touching what a live concurrent run owns.
const (
	// OwnerEnv is the variable naming the kit process that started a
	// process, as "<pid>.<start time>".
	OwnerEnv   = "ADAPTER_CONFORMANCE_OWNER"
	processEnv = "ADAPTER_CONFORMANCE_PROCESS"
)

var self struct {
	once  sync.Once
	token string
	seq   int64
	mu    sync.Mutex
}

// ownerToken is this kit process's owner token, "<pid>.<start time>".
func ownerToken() string {
	self.once.Do(func() {
		start, _ := processStartTime(os.Getpid())
		self.token = strconv.Itoa(os.Getpid()) + "." + start
	})
	return self.token
}

// NextProcessID names one adapter process among those this kit starts: Env
// marks the process with it, and Descendants finds by it every process that
// descends from that one, wherever they moved.
func NextProcessID() string {
	self.mu.Lock()
	defer self.mu.Unlock()
	self.seq++
	return ownerToken() + "." + strconv.FormatInt(self.seq, 10)
}

// processStartTime is field 22 of /proc/PID/stat: when the process started,
// in clock ticks since boot.
func processStartTime(pid int) (string, error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return "", err
	}
	// The command name (field 2) may hold spaces; fields resume after ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return "", fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	fields := strings.Fields(string(b[i+1:]))
	if len(fields) < 20 {
		return "", fmt.Errorf("malformed /proc/%d/stat", pid)
	}
	return fields[19], nil
}

// ownerAlive reports whether the kit process an owner token names still runs.
func ownerAlive(token string) bool {
	pidText, start, ok := strings.Cut(token, ".")
	pid, err := strconv.Atoi(pidText)
	if !ok || err != nil {
		return false
	}
	got, err := processStartTime(pid)
	return err == nil && got == start
}

// TempDir makes a temporary directory whose name carries this kit process's
// owner token, so that a later run can remove it once this one is dead
// (SweepDeadRuns), even if this one never could. kind is a lower-case word
// that says what it holds ("build", "app", "cwd", "image").
func TempDir(kind string) (string, error) {
	return os.MkdirTemp("", "adapter-conformance-"+kind+"-"+ownerToken()+"-")
}

// Env is the environment that marks a process as started by this kit, as
// the adapter process id (NextProcessID): the variables to add to Environ
// when starting it.
func Env(id string) []string {
	return []string{OwnerEnv + "=" + ownerToken(), processEnv + "=" + id}
}

// markedProcesses lists the live processes whose environment holds the
// variable name with a value that keep accepts. A process that cleared its
// environment, or that the kit may not read, is not found.
func markedProcesses(name string, keep func(value string) bool) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	prefix := []byte(name + "=")
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
		if err != nil {
			continue
		}
		for kv := range bytes.SplitSeq(env, []byte{0}) {
			if v, ok := bytes.CutPrefix(kv, prefix); ok && keep(string(v)) && !isZombie(pid) {
				pids = append(pids, pid)
				break
			}
		}
	}
	return pids
}

// isZombie reports whether a process has exited and waits to be reaped: it
// runs nothing and holds nothing but its pid.
func isZombie(pid int) bool {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return true
	}
	i := bytes.LastIndexByte(b, ')')
	return i < 0 || i+3 > len(b) || b[i+2] == 'Z' || b[i+2] == 'X'
}

// Descendants lists the live processes descended from one adapter process
// (the process itself included while it runs), wherever they moved: what
// killing its process group misses, because they left it (setsid).
func Descendants(id string) []int {
	return markedProcesses(processEnv, func(v string) bool { return v == id })
}

// KillAll sends SIGKILL to each pid, as to what Descendants found.
func KillAll(pids []int) {
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

var deadRunsSweep sync.Once

// SweepDeadRunsOnce runs SweepDeadRuns the first time it is called in this
// kit process: whatever is about to start an adapter process or a build
// calls it, so a run cleans up after dead runs without being asked.
func SweepDeadRunsOnce() { deadRunsSweep.Do(func() { SweepDeadRuns() }) }

// ownedDirName matches the kit's temporary directories and captures the
// owner token in their names.
var ownedDirName = regexp.MustCompile(`^adapter-conformance-[a-z]+-(\d+\.\d+)-\d+$`)

// SweepDeadRuns removes what kit processes that are no longer alive left
// behind: the adapter processes they started (and their descendants, found
// by OwnerEnv) and their temporary directories (found by name). What a live
// run owns is never touched. It returns what it removed, for a log line.
func SweepDeadRuns() (killed []int, removed []string) {
	me := ownerToken()
	killed = markedProcesses(OwnerEnv, func(v string) bool { return v != me && !ownerAlive(v) })
	KillAll(killed)
	entries, _ := os.ReadDir(os.TempDir())
	for _, e := range entries {
		m := ownedDirName.FindStringSubmatch(e.Name())
		if m == nil || m[1] == me || ownerAlive(m[1]) {
			continue
		}
		p := filepath.Join(os.TempDir(), e.Name())
		if os.RemoveAll(p) == nil {
			removed = append(removed, p)
		}
	}
	return killed, removed
}

// ProcAttr puts a process the kit starts in a process group of its own, and
// has the kernel kill it when the kit dies (Pdeathsig: even a SIGKILLed kit
// leaves no adapter listening). Pdeathsig fires when the thread that started
// the process ends; Go's threads outlive the calls that start processes
// unless a goroutine locked to its thread exits, which the kit never does.
// Descendants are not covered: SweepDeadRuns finds them.
func ProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// Environ is the kit's environment without the marks of a kit that started
// this one, so that each process carries one owner: the environment to
// start a process with, before Env's marks.
func Environ() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, OwnerEnv+"=") && !strings.HasPrefix(kv, processEnv+"=") {
			env = append(env, kv)
		}
	}
	return env
}

// started remembers every process group the kit created, so that tests
// (and a careful caller) can check that none is left behind.
var started struct {
	sync.Mutex
	pgids []int
}

// RememberGroup records a process group the kit created (its leader's pid,
// a process started with ProcAttr), for Leftovers.
func RememberGroup(pgid int) {
	started.Lock()
	started.pgids = append(started.pgids, pgid)
	started.Unlock()
}

// Leftovers returns the process groups the kit started (RememberGroup) that
// still have a live member, and the processes carrying this kit's OwnerEnv
// mark that still run (descendants that left their group). After every
// target is stopped it must be empty: the kit's tests assert it.
func Leftovers() []int {
	started.Lock()
	defer started.Unlock()
	var alive []int
	for _, pg := range started.pgids {
		if err := syscall.Kill(-pg, 0); err == nil {
			alive = append(alive, pg)
		}
	}
	me := ownerToken()
	for _, pid := range markedProcesses(OwnerEnv, func(v string) bool { return v == me }) {
		if !slices.Contains(alive, pid) {
			alive = append(alive, pid)
		}
	}
	return alive
}
