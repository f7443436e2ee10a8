package container

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"
)

// TestHoldSweepsWaitsForAnotherHolder: while another process holds the
// sweep lock (here an open file description of this test's own, which
// flock treats as another holder), HoldSweeps waits for it and a sweep's
// try fails at once; once it lets go, HoldSweeps has the lock, and in this
// process a second hold (a holder's own sweep) is shared, not refused.
func TestHoldSweepsWaitsForAnotherHolder(t *testing.T) {
	other, err := os.OpenFile(sweepLockFile, os.O_CREATE|os.O_RDONLY, 0o666)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	// Blocks while a kit process beside this test sweeps.
	if err := syscall.Flock(int(other.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if _, err := HoldSweeps(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("HoldSweeps while another holds the lock = %v, want it to wait until its context ends", err)
	}
	if held, err := tryHoldSweeps(); held || err != nil {
		t.Fatalf("a sweep's try while another holds the lock = %v, %v: want false, nil (the sweep skips)", held, err)
	}
	other.Close() // lets go of its flock

	ctx, cancel = context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	release, err := HoldSweeps(ctx)
	if err != nil {
		t.Fatalf("HoldSweeps once the other let go: %v", err)
	}
	if held, err := tryHoldSweeps(); !held || err != nil {
		t.Fatalf("a sweep's try in the holding process = %v, %v: want true, nil (shared)", held, err)
	}
	releaseSweeps()
	release()
	release() // a second call is a no-op
	sweepLock.Lock()
	held, file := sweepLock.held, sweepLock.file
	sweepLock.Unlock()
	if held != 0 || file != nil {
		t.Errorf("after every release, %d holds are left (file %v): the lock would stay held", held, file)
	}
}
