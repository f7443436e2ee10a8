package runner

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
)

// Every process the kit starts carries two environment variables, which its
// descendants inherit even when they leave its process group (setsid):
//   - OwnerEnv names the kit process that started it (its pid and its start
//     time, so a reused pid is not mistaken for it);
//   - processEnv names the one adapter process it descends from.
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

// nextProcessID names one adapter process among those this kit starts.
func nextProcessID() string {
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

// kitTempDir makes a temporary directory whose name carries this kit
// process's owner token, so that a later run can remove it once this one
// is dead (SweepDeadRuns).
func kitTempDir(kind string) (string, error) {
	return os.MkdirTemp("", "adapter-conformance-"+kind+"-"+ownerToken()+"-")
}

// ownedEnv is the environment that marks a process as started by this kit,
// as adapter process id.
func ownedEnv(id string) []string {
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

// descendantsOf lists the live processes descended from one adapter process
// (the process itself included while it runs), wherever they moved.
func descendantsOf(id string) []int {
	return markedProcesses(processEnv, func(v string) bool { return v == id })
}

// killAll sends SIGKILL to each pid.
func killAll(pids []int) {
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

var deadRunsSweep sync.Once

// sweepDeadRunsOnce runs SweepDeadRuns the first time a target of this kit
// process starts an adapter process.
func sweepDeadRunsOnce() { deadRunsSweep.Do(func() { SweepDeadRuns() }) }

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
	killAll(killed)
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
