// Package realworld runs the kit against published Lambda bridges, as
// real-world controls: aws-lambda-go-api-proxy's httpadapter (New for API
// Gateway REST, payload v1; NewV2 for HTTP API, payload v2) and
// aws-lambda-go's lambdaurl (Function URL, response streaming). Each bridge
// is given the App served as an http.Handler (contract.AppHandler), as its
// users give it their router. It is a module of its own so that the kit's
// go.mod needs none of the bridges.
package realworld

import (
	"net/http"

	"github.com/aws/aws-lambda-go/lambdaurl"
	"github.com/awslabs/aws-lambda-go-api-proxy/httpadapter"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner/contract"
)

// Bridge is a published bridge: the name it is declared under, the Lambda
// shape it serves, and how its users wrap an http.Handler with it.
type Bridge struct {
	Name  string
	Shape app.HostShape
	Wrap  func(http.Handler) any
}

// Integration declares the bridge as an adapter (contract.BridgeIntegration).
func (b Bridge) Integration() app.Integration {
	return contract.BridgeIntegration(b.Name, b.Shape, b.Wrap)
}

// Main is the whole main of the bridge's Lambda function
// (contract.LambdaBridge): run by the kit as a binary, under its Lambda
// Runtime API.
func (b Bridge) Main() { contract.LambdaBridge(b.Name, b.Shape, b.Wrap) }

// The bridges, as their READMEs show them used with lambda.Start.
var (
	// HTTPAdapterV1 is httpadapter.New(h).ProxyWithContext, for API Gateway
	// REST (payload v1).
	HTTPAdapterV1 = Bridge{"httpadapter-v1", app.ShapeLambdaV1, func(h http.Handler) any {
		return httpadapter.New(h).ProxyWithContext
	}}
	// HTTPAdapterV2 is httpadapter.NewV2(h).ProxyWithContext, for API
	// Gateway HTTP API (payload v2).
	HTTPAdapterV2 = Bridge{"httpadapter-v2", app.ShapeLambdaV2, func(h http.Handler) any {
		return httpadapter.NewV2(h).ProxyWithContext
	}}
	// LambdaURLStreaming is lambdaurl.Wrap(h), for a Function URL in
	// response streaming mode, the only mode lambdaurl supports
	// (lambdaurl/http_handler.go:101-105: "Only Lambda Function URLs
	// configured with InvokeMode: RESPONSE_STREAM are supported").
	LambdaURLStreaming = Bridge{"lambdaurl-streaming", app.ShapeFunctionURL, func(h http.Handler) any {
		return lambdaurl.Wrap(h)
	}}
)

// All are the bridges the realworld tests run.
var All = []Bridge{HTTPAdapterV1, HTTPAdapterV2, LambdaURLStreaming}
