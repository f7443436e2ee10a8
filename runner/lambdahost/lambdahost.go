// Package lambdahost emulates the AWS hosts of a Lambda function, so that
// the kit can drive a Lambda adapter as AWS would: an emulated gateway (API
// Gateway REST with payload v1, HTTP API with payload v2, or a Function URL)
// turns each HTTP request into the event that gateway sends, invokes the
// function, and turns the returned envelope into the HTTP response that
// gateway would send, with the gateway's rules: what it drops, what it
// joins, what it rejects (adapter-bugs-and-hosts.md Part 2). Each invocation
// is recorded by request id, so the LAMBDA specs can check the envelope
// itself and not only the HTTP result.
//
// The function is invoked in this process (InProcessInvoker, for a handler
// value) or out of process through the Lambda Runtime API the package
// serves (RuntimeAPI, and Function for the runtime processes behind it),
// with response streaming in both.
//
// It is a package of its own, which depends only on app, the standard
// library and aws-lambda-go, so that it can be read, tested and reused
// (by the runner's in-process, binary and container targets alike) without
// the rest of the kit (deps_test.go checks it).
package lambdahost

import (
	"context"
	"time"
)

// RequestIDHeader carries the kit's id for each request it sends, in every
// mode, so that what the adapter got can be tied back to what the client
// sent: the gateway files each invocation under it (and the event's request
// id is it), and runner's RenderLog files what the App rendered under it.
// It is defined here, not in runner, because lambdahost may not import
// runner.
const RequestIDHeader = "X-Conformance-Request-Id"

// FaultRecorder is where the gateway reports the contract breaches it sees
// (a malformed envelope, a failing function), by request id, so that every
// exchange's dump shows them; runner's *FaultLog is one.
type FaultRecorder interface {
	Add(id, fault string)
}

// MaxPayload is the Lambda service's limit on a synchronous
// invocation's request and response payloads: 6 MiB plus 100 bytes, the RIE's
// MaxPayloadSize and the 6291556 bytes of AWS's own error message.
const MaxPayload = 6*1024*1024 + 100

// Timeout is the function timeout the emulator gives each invocation.
const Timeout = 10 * time.Second

// The values the emulated gateway puts where AWS puts account data.
const (
	accountID   = "123456789012"
	apiID       = "conformance"
	functionARN = "arn:aws:lambda:us-east-1:123456789012:function:adapter-conformance"
	// DefaultStage is the stage of an HTTP API that adds no path prefix.
	DefaultStage = "$default"
	// DefaultRESTStage is the stage of the emulated REST API: a REST API has
	// no $default stage, every deployment is to a named one (the name of the
	// voker capture's stage).
	DefaultRESTStage = "live"
)

// Invoker invokes the function once with an event and returns the raw
// payload it answered with, or the error it reported (a returned error, a
// panic, an /error post out of process).
type Invoker func(ctx context.Context, requestID string, event []byte) ([]byte, error)
