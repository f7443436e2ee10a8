package container

import (
	"context"
	"errors"
	"os"
	"sync"
	"syscall"
	"time"
)

// The sweep lock: one machine-wide lock (an flock on a file in the temp
// directory) that SweepContainers holds while it sweeps. A sweep lists the
// kit's containers and images and then removes a dead owner's ones by ID,
// so two sweeps at once race each other for nothing, and a sweep can
// remove an image that was tagged between its list and its removal. The
// only process that tags a dead owner's image is one staging leftovers on
// purpose (a test of the sweep, with go test running other packages'
// container runs beside it, each sweeping as it starts): it holds the lock
// with HoldSweeps while it stages them and sweeps.
//
// A sweep that finds the lock held by another process does not wait: that
// process is sweeping the same leftovers, or staging them to sweep itself,
// and a target's start must not wait on it. In one process the lock is
// reentrant, so a holder's own SweepContainers goes on.

// sweepLockFile is the lock's file: one per machine, created on first use,
// in /tmp itself rather than $TMPDIR, which a run may set to a directory
// of its own (the kit's tests do, to see what a run leaves behind).
const sweepLockFile = "/tmp/adapter-conformance-sweep.lock"

var sweepLock struct {
	sync.Mutex
	held int      // holds taken in this process and not yet released
	file *os.File // open, and locked, while held > 0
}

// sweepLockPoll is how often HoldSweeps tries again while another
// process holds the lock (for as long as one sweep takes).
const sweepLockPoll = 50 * time.Millisecond

// HoldSweeps keeps every other process's SweepContainers from sweeping
// until release is called; this process's own sweeps go on. It waits, as
// long as ctx allows, for a sweep another process is running to end. It
// is for a test that stages a dead owner's containers or images on
// purpose, so that no other process removes them before the test has
// looked at them and run its own sweep.
func HoldSweeps(ctx context.Context) (release func(), err error) {
	for {
		ok, err := tryHoldSweeps()
		if err != nil {
			return nil, err
		}
		if ok {
			return sync.OnceFunc(releaseSweeps), nil
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(sweepLockPoll):
		}
	}
}

// tryHoldSweeps takes the sweep lock if no other process holds it, and
// says whether it did; a hold already taken in this process is shared.
func tryHoldSweeps() (bool, error) {
	sweepLock.Lock()
	defer sweepLock.Unlock()
	if sweepLock.held > 0 {
		sweepLock.held++
		return true, nil
	}
	// Read-only: flock needs no more, and another user's file may allow
	// no more.
	f, err := os.OpenFile(sweepLockFile, os.O_CREATE|os.O_RDONLY, 0o666)
	if err != nil {
		return false, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return false, nil
		}
		return false, err
	}
	sweepLock.file, sweepLock.held = f, 1
	return true, nil
}

// releaseSweeps lets go of one hold; the last one unlocks the file.
func releaseSweeps() {
	sweepLock.Lock()
	defer sweepLock.Unlock()
	if sweepLock.held--; sweepLock.held == 0 {
		sweepLock.file.Close() // closing the file releases its flock
		sweepLock.file = nil
	}
}
