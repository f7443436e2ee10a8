package container

import "testing"

// TestContainerExitCodeNamesTheSignal: a container killed by a signal is
// described with the shell's 128+N convention and the signal's name.
func TestContainerExitCodeNamesTheSignal(t *testing.T) {
	for code, want := range map[int]string{0: "0", 1: "1", 128: "128", 137: "137 (128+9: killed by SIGKILL)", 143: "143 (128+15: killed by SIGTERM)", 255: "255"} {
		if got := exitCodeString(code); got != want {
			t.Errorf("exitCodeString(%d) = %q, want %q", code, got, want)
		}
	}
}
