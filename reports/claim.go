package reports

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// LockFile is the file in a report directory that a run holds locked for
// as long as it may write there.
const LockFile = ".adapter-conformance.lock"

// ErrInUse says another run holds a report directory.
var ErrInUse = errors.New("in use by another run")

// Claim makes dir ready for a run's reports before the run starts, so that
// nothing is found out after the run, when its results would be lost: it
// creates dir, proves it writable (a probe file written and removed) and
// takes an exclusive lock on it, so that two runs into one directory do not
// silently overwrite each other's files. The lock is the kernel's (flock):
// a run that dies, even killed, releases it. release unlocks and removes
// the lock file.
func Claim(dir string) (release func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("report directory %s cannot be created: %w", dir, err)
	}
	probe, err := os.CreateTemp(dir, ".probe-*")
	if err == nil {
		_, err = probe.WriteString("adapter-conformance write probe\n")
		err = errors.Join(err, probe.Close(), os.Remove(probe.Name()))
	}
	if err != nil {
		return nil, fmt.Errorf("report directory %s is not writable: %w", dir, err)
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("report directory %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		holder, _ := os.ReadFile(path)
		f.Close()
		who := "another run"
		if pid := strings.TrimSpace(string(holder)); pid != "" {
			who = "the run with pid " + pid
		}
		return nil, fmt.Errorf("report directory %s is %w (held by %s): give each run its own --report-dir: %v", dir, ErrInUse, who, err)
	}
	f.Truncate(0)
	f.WriteString(strconv.Itoa(os.Getpid()) + "\n")
	return func() {
		os.Remove(path)
		f.Close() // closing the descriptor releases the lock
	}, nil
}
