package container

import (
	"context"
	"io"
	"time"

	"github.com/moby/moby/client"
)

// Output settling. A container's state says it exited before the engine has
// necessarily written all it printed to its log: the engine copies the
// output into the log on its own time, and under load it was seconds
// behind (a container that printed 2 MiB at start and a line on stderr as
// it crashed was read back, after its exit, without the last 180 KiB or
// the crash line: TestFaultMatrixContainers/container_crashes in CI). The
// last lines are the ones that say why an adapter died (PROC-6), so the
// output of an exited container is read once it has stopped growing. This
// narrows the gap, not closes it: once more under CI's load, the engine
// never delivered a crashed container's last line at all.

const (
	// settlePoll is how often the log's last line is read while waiting.
	settlePoll = 200 * time.Millisecond
	// settleStill is how many reads in a row must find the same last line
	// (a second of no new output) for the log to count as complete.
	settleStill = 5
)

// waitOutputSettled returns once the last line of the container's log
// (with its timestamp, so that a repeated line counts as new) has been the
// same for settleStill reads in a row, or when ctx ends.
func waitOutputSettled(ctx context.Context, cli client.APIClient, id string) {
	tick := time.NewTicker(settlePoll)
	defer tick.Stop()
	last, same := "", 0
	for same < settleStill {
		line, err := lastLogLine(ctx, cli, id)
		if err != nil {
			return
		}
		if line == last {
			same++
		} else {
			last, same = line, 0
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// lastLogLine is the container's last line of output, stdout or stderr,
// as the engine frames it, with its timestamp.
func lastLogLine(ctx context.Context, cli client.APIClient, id string) (string, error) {
	rc, err := cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: true, ShowStderr: true, Tail: "1", Timestamps: true})
	if err != nil {
		return "", err
	}
	defer rc.Close()
	b, err := io.ReadAll(io.LimitReader(rc, 64<<10))
	return string(b), err
}
