package executable

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"syscall"
	"time"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner/contract"
	"github.com/adapterconformance/adapter-conformance/runner/ownership"
)

// DescribeTimeout bounds a --describe run, in a process or a container,
// unless the target's Timeouts.Describe says otherwise: it is that field's
// default.
const DescribeTimeout = 10 * time.Second

// describeOutputLimit bounds what --describe may print: a declaration is a
// few kilobytes, and what the kit reads ends up in every report.
const describeOutputLimit = 1 << 20

// Describe runs the executable with --describe for an exported app (PROC-1),
// within DescribeTimeout.
func Describe(ctx context.Context, bin, appDir string, env []string) (*contract.Description, error) {
	return DescribeWithin(ctx, DescribeTimeout, bin, appDir, env)
}

// DescribeWithin runs the executable with --describe for an exported app
// (PROC-1), within limit (the target's Timeouts.Describe). It runs in a
// process group of its own, which is killed once it has exited: a
// --describe that leaves a child running does not leak it.
func DescribeWithin(ctx context.Context, limit time.Duration, bin, appDir string, env []string) (*contract.Description, error) {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := groupCommand(ctx, bin, contract.DescribeFlag)
	id := ownership.NextProcessID()
	cmd.Env = append(append(append(ownership.Environ(), ownership.Env(id)...), env...), contract.EnvApp+"="+appDir)
	capture := NewDescribeCapture()
	cmd.Stdout, cmd.Stderr = capture.Writers()
	what := bin + " " + contract.DescribeFlag
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s could not be started: %w", what, err)
	}
	ownership.RememberGroup(cmd.Process.Pid)
	err := cmd.Wait()
	syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	ownership.KillAll(ownership.Descendants(id)) // children that left the group too
	if errors.Is(err, exec.ErrWaitDelay) {
		// It exited, but a child it left kept the output open; the child
		// is gone with the group, and what was printed is complete.
		err = nil
	}
	if err != nil && ctx.Err() != nil {
		err = fmt.Errorf("it did not exit within %s (%v)", limit, err)
	}
	return capture.Description(what, err)
}

// DescribeCapture collects what one --describe run prints and reads the
// description from it, with Describe's bounds and errors: stdout is capped
// (a declaration is a few kilobytes), stderr is kept as an adapter's output
// is, and a failed run is explained with its stderr. It is for a run that
// Describe cannot make itself, such as one in a container.
type DescribeCapture struct {
	stdout *CappedBuffer
	stderr *logBuffer
}

// NewDescribeCapture is an empty capture.
func NewDescribeCapture() *DescribeCapture {
	return &DescribeCapture{stdout: NewCappedBuffer(describeOutputLimit), stderr: newLogBuffer()}
}

// Writers are where the run's stdout and stderr go.
func (c *DescribeCapture) Writers() (stdout, stderr io.Writer) { return c.stdout, c.stderr }

// Description is the description the run printed, or why there is none:
// runErr (the run failed: not started, not exited in time, a non-zero
// status) with the end of its stderr, output over the cap, or output
// that is no description. what names the run in errors. It shows the end
// of what the adapter wrote on stderr, which is where it says why it
// failed.
func (c *DescribeCapture) Description(what string, runErr error) (*contract.Description, error) {
	logs := c.stderr.String()
	switch {
	case runErr != nil:
		return nil, fmt.Errorf("%s failed: %v; the end of its stderr:\n%s", what, runErr, tail(logs, 2000))
	case c.stdout.Truncated():
		return nil, fmt.Errorf("%s printed more than %d bytes: a declaration is a few kilobytes of JSON (output: %.200q...)", what, describeOutputLimit, c.stdout.Bytes())
	}
	return ParseDescription(c.stdout.Bytes())
}

// ParseDescription decodes what --describe printed, or says how it is not
// the description envelope of this kit's contract version.
func ParseDescription(out []byte) (*contract.Description, error) {
	var d contract.Description
	if err := json.Unmarshal(bytes.TrimSpace(out), &d); err != nil {
		return nil, fmt.Errorf("the adapter's %s output is not a JSON description: %v (output: %.200q)%s", contract.DescribeFlag, err, out, expectedShape())
	}
	if d.Contract != contract.Version {
		var fields map[string]json.RawMessage
		json.Unmarshal(bytes.TrimSpace(out), &fields)
		if _, ok := fields["contract"]; !ok {
			what := "it has no \"contract\" field"
			if _, ok := fields["name"]; ok {
				what = "it looks like a bare setAdapter declaration (it has \"name\" but no \"contract\"): the declaration goes inside the envelope, as one of its setAdapterCalls"
			}
			return nil, fmt.Errorf("the adapter's %s output is not the description envelope: %s (output: %.200q)%s", contract.DescribeFlag, what, out, expectedShape())
		}
		return nil, fmt.Errorf("the adapter describes itself with contract version %d; this kit speaks version %d%s", d.Contract, contract.Version, expectedShape())
	}
	return &d, nil
}

// expectedShape shows what a description looks like, for the error of one
// that is not.
func expectedShape() string {
	return fmt.Sprintf("; expected one JSON object like\n  %s\n(%s in the kit's repository specifies it)", contract.ExampleDescription, contract.SchemaFile)
}

// DeclarationOf turns a description back into the declaration the suite
// checks (runner.Instance.Declaration), as an in-process adapter's
// config-done hook would have made it.
func DeclarationOf(d *contract.Description) contract.Declaration {
	out := contract.Declaration{HookRan: d.HookRan}
	if d.HookError != "" {
		out.HookError = errors.New(d.HookError)
	}
	for _, c := range d.Calls {
		out.Calls = append(out.Calls, c.Adapter)
	}
	return out
}

// DeclaredLambdaShapes are the Lambda host shapes a description declares,
// in its order: the kit runs the executable once for each, as a function
// behind that gateway, the way a deployment would put one function behind
// several integrations.
func DeclaredLambdaShapes(d *contract.Description) []app.HostShape {
	if d == nil || len(d.Calls) == 0 {
		return nil
	}
	var shapes []app.HostShape
	for _, s := range d.Calls[0].Shapes {
		if s.IsLambda() && !slices.Contains(shapes, s) {
			shapes = append(shapes, s)
		}
	}
	return shapes
}

// tail is the last n bytes of s, marked as cut when they are not all of it.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
