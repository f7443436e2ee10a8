package runner

import (
	"context"
	"io"
	"log"
	"net/http/httptest"
	"sync/atomic"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner/lambdahost"
)

// The Lambda host shapes (LAMBDA-n) are emulated by runner/lambdahost: the
// gateway, the event codec, the in-process invoker and the Runtime API.
// What is left here is what ties them to a target: a Host in front of a
// Lambda-shaped export (this file), or in front of an executable run as a
// Lambda function (lambda_runtime.go).

// lambdaExportHost puts a Lambda handler export behind the emulated gateway
// of its shape, on an httptest server, invoked in this process.
func lambdaExportHost(name string, v any, shape app.HostShape, renders *RenderLog, in *Instance) *Host {
	h := &Host{Shape: shape, Export: name, Renders: renders, Faults: &FaultLog{}, NextCalls: &atomic.Int64{}}
	h.Gateway = lambdahost.NewGateway(shape, lambdahost.InProcessInvoker(v), h.Faults)
	srv := httptest.NewUnstartedServer(h.Gateway)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.Start()
	h.URL = srv.URL
	in.onStop(func(context.Context) error {
		srv.CloseClientConnections()
		srv.Close()
		return nil
	})
	return h
}
