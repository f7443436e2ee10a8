package container

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	cerrdefs "github.com/containerd/errdefs"

	"github.com/adapterconformance/adapter-conformance/runner/executable"
)

// TestContainerExitCodeNamesTheSignal: a container killed by a signal is
// described with the shell's 128+N convention and the signal's name.
func TestContainerExitCodeNamesTheSignal(t *testing.T) {
	for code, want := range map[int]string{0: "0", 1: "1", 128: "128", 137: "137 (128+9: killed by SIGKILL)", 143: "143 (128+15: killed by SIGTERM)", 255: "255"} {
		if got := exitCodeString(code); got != want {
			t.Errorf("exitCodeString(%d) = %q, want %q", code, got, want)
		}
	}
}

// TestBuildAgainWithoutCacheWhenACachedStepFailed: a build that failed after
// taking a step from the engine's build cache, or because an image it had
// found went away (another build's removal may have taken it meanwhile),
// is built once more without the cache; one that failed otherwise, or
// whose context ended, is not.
func TestBuildAgainWithoutCacheWhenACachedStepFailed(t *testing.T) {
	vanished := errors.New("build image: failed to get digest sha256:2005e8af: no such file or directory")
	cases := []struct {
		name      string
		firstLog  string
		firstErr  error
		cancelled bool
		want      []bool // the noCache argument of each attempt
		wantErr   bool
	}{
		{"cached step, then failed", "Step 2/9 : COPY adapter /adapter\n ---> Using cache\n ---> 74dcfc5a733f\n", vanished, false, []bool{false, true}, false},
		{"an image gone before any cached step was logged", "Step 2/9 : COPY adapter /adapter\n", vanished, false, []bool{false, true}, false},
		{"no cached step, another failure", "Step 2/9 : COPY adapter /adapter\n ---> 74dcfc5a733f\n", errors.New("build image: The command '/bin/sh -c make' returned a non-zero code: 2"), false, []bool{false}, true},
		{"built", "Step 2/9 : COPY adapter /adapter\n ---> Using cache\n", nil, false, []bool{false}, false},
		{"interrupted", "Step 2/9 : COPY adapter /adapter\n ---> Using cache\n", context.Canceled, true, []bool{false}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			log := executable.NewOutputBuffer()
			var got []bool
			attempt := func(noCache bool) (string, error) {
				got = append(got, noCache)
				if len(got) == 1 {
					io.WriteString(log, c.firstLog)
					if c.cancelled {
						cancel()
					}
					if c.firstErr != nil {
						return "", c.firstErr
					}
				}
				return "adapter-conformance/x:tag", nil
			}
			image, err := buildAvoidingVanishedCache(ctx, attempt, log)
			if !slices.Equal(got, c.want) {
				t.Errorf("attempts with noCache %v, want %v", got, c.want)
			}
			if (err != nil) != c.wantErr {
				t.Errorf("err = %v, want an error: %v", err, c.wantErr)
			}
			if err == nil && image == "" {
				t.Error("no image named")
			}
			if len(c.want) == 2 && !strings.Contains(log.String(), "building again without the cache") {
				t.Errorf("the log does not say the build was run again:\n%s", log.String())
			}
		})
	}
}

// TestRemovalInProgressIsAnotherSweep: the engine's 409 for a container
// another client is removing is not a sweep's error; other conflicts and
// errors are.
func TestRemovalInProgressIsAnotherSweep(t *testing.T) {
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("Error response from daemon: removal of container ba7a5c5fe2ad is already in progress: %w", cerrdefs.ErrConflict), true},
		{fmt.Errorf("Error response from daemon: conflict: unable to remove repository reference: %w", cerrdefs.ErrConflict), false},
		{fmt.Errorf("removal of container ba7a5c5fe2ad is already in progress"), false},
		{cerrdefs.ErrNotFound, false},
	} {
		if got := removalInProgress(c.err); got != c.want {
			t.Errorf("removalInProgress(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}
