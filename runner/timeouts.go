package runner

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/adapterconformance/adapter-conformance/runner/contract"
	"github.com/adapterconformance/adapter-conformance/runner/executable"
)

// Timeouts are the kit's waits on an adapter, in one value with defaults:
// a target carries them (WithTimeouts), and the suite reads them from the
// target it runs (TimeoutsOf), so that a wait the target and the specs
// share, such as the grace period, is set once. A zero field takes its
// default. A slow host (a CI runner under the race detector, an emulated
// architecture) raises them; the kit's own tests lower them to judge a
// hung adapter quickly.
type Timeouts struct {
	// Readiness: how long a host may take to answer HTTP once started
	// (START-2), a URL target its first request, and a Lambda function
	// its first poll of the Runtime API.
	Readiness time.Duration
	// Grace: how long an adapter may take to finish once told to stop: a
	// process or container after SIGTERM, before it is killed (START-5,
	// PROC-3), and an in-process Start after its context is cancelled
	// (START-4).
	Grace time.Duration
	// Describe: how long an adapter may take to say what it has: an
	// executable's --describe (PROC-1), an in-process CreateExports when
	// the suite lists the exports before starting.
	Describe time.Duration
	// Request: how long one request waits for its response headers; the
	// whole exchange, body included, gets twice that.
	Request time.Duration
	// Concurrent: how long each of EXPORT-3's (and EXPORT-5's) concurrent
	// requests may wait, queued behind the others on purpose: an adapter
	// that serves requests one at a time still answers fifty well within
	// it, one that deadlocks under concurrency does not.
	Concurrent time.Duration
	// ShutdownReaction: how soon a host must stop taking new connections
	// once it was told to stop (START-4): from SIGTERM's delivery
	// (Host.Signalled), or Start's cancelled context.
	ShutdownReaction time.Duration
	// Stop: how long stopping an instance at the end of a fixture may
	// take, its grace period included.
	Stop time.Duration
}

// DefaultTimeouts are the waits a run has unless told otherwise.
func DefaultTimeouts() Timeouts {
	return Timeouts{
		Readiness:        readinessTimeout,
		Grace:            contract.GracePeriod,
		Describe:         executable.DescribeTimeout,
		Request:          10 * time.Second,
		Concurrent:       60 * time.Second,
		ShutdownReaction: 500 * time.Millisecond,
		Stop:             30 * time.Second,
	}
}

// over returns t with every zero field taken from base.
func (t Timeouts) over(base Timeouts) Timeouts {
	for _, f := range timeoutFields {
		if *f.of(&t) == 0 {
			*f.of(&t) = *f.of(&base)
		}
	}
	return t
}

// timeoutFields name the fields of Timeouts for ParseTimeouts and String.
var timeoutFields = []struct {
	name string
	of   func(*Timeouts) *time.Duration
}{
	{"readiness", func(t *Timeouts) *time.Duration { return &t.Readiness }},
	{"grace", func(t *Timeouts) *time.Duration { return &t.Grace }},
	{"describe", func(t *Timeouts) *time.Duration { return &t.Describe }},
	{"request", func(t *Timeouts) *time.Duration { return &t.Request }},
	{"concurrent", func(t *Timeouts) *time.Duration { return &t.Concurrent }},
	{"shutdown-reaction", func(t *Timeouts) *time.Duration { return &t.ShutdownReaction }},
	{"stop", func(t *Timeouts) *time.Duration { return &t.Stop }},
}

// String lists the timeouts as ParseTimeouts reads them.
func (t Timeouts) String() string {
	var parts []string
	for _, f := range timeoutFields {
		parts = append(parts, f.name+"="+f.of(&t).String())
	}
	return strings.Join(parts, ",")
}

// ParseTimeouts reads "readiness=20s,grace=5s" (the CLI's --timeouts):
// the fields named get those durations, the others stay zero (their
// default, once given to WithTimeouts).
func ParseTimeouts(s string) (Timeouts, error) {
	var t Timeouts
	known := map[string]func(*Timeouts) *time.Duration{}
	for _, f := range timeoutFields {
		known[f.name] = f.of
	}
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		name, value, ok := strings.Cut(part, "=")
		of, isKnown := known[strings.TrimSpace(name)]
		if !ok || !isKnown {
			names := make([]string, 0, len(known))
			for n := range known {
				names = append(names, n)
			}
			sort.Strings(names)
			return Timeouts{}, fmt.Errorf("timeouts: %q is not NAME=DURATION with NAME one of %s", part, strings.Join(names, ", "))
		}
		d, err := time.ParseDuration(strings.TrimSpace(value))
		if err != nil || d <= 0 {
			return Timeouts{}, fmt.Errorf("timeouts: %s=%s is not a positive duration such as 20s", name, value)
		}
		*of(&t) = d
	}
	return t, nil
}

// WithTimeouts sets the target's waits; a zero field keeps its value
// (its default, or what an earlier option set).
func WithTimeouts(t Timeouts) Option {
	return func(s *settings) { s.timeouts = t.over(s.timeouts) }
}

// TimeoutsOf are the waits a target runs with: what its options set over
// the defaults, or the defaults for a target that does not say.
func TimeoutsOf(t Target) Timeouts {
	if w, ok := t.(interface{ Timeouts() Timeouts }); ok {
		return w.Timeouts().over(DefaultTimeouts())
	}
	return DefaultTimeouts()
}
