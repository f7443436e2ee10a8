package app

import (
	"context"
	"net"
	"net/http"
)

// Integration is the seed's AstroIntegration: a name and hooks. An adapter is
// an integration whose config-done hook calls SetAdapter (seed: "An adapter
// must call the setAdapter API in the astro:config:done hook").
type Integration struct {
	Name  string
	Hooks Hooks
}

// Hooks holds the integration hooks the kit runs. Only config-done matters to
// an adapter; the others of Astro's list have no observable effect here.
type Hooks struct {
	// ConfigDone is 'astro:config:done'. Returning an error aborts the build.
	ConfigDone func(ConfigDoneParams) error
}

// ConfigDoneParams is what the config-done hook receives.
type ConfigDoneParams struct {
	// Config is the project config the build uses.
	Config Config
	// SetAdapter must be called exactly once, with a non-empty name.
	SetAdapter func(Adapter)
}

// Config is the part of the Astro config an adapter may read.
type Config struct {
	Base          string
	TrailingSlash TrailingSlash
}

// HostShape is a way a host can drive an adapter. The kit picks its specs by
// the shapes an adapter declares.
type HostShape string

const (
	// ShapeStart: Start serves on a listener (HOST/PORT out of process).
	ShapeStart HostShape = "start"
	// ShapeHandler: an export that is an http.Handler.
	ShapeHandler HostShape = "handler"
	// ShapeFetch: an export that is a FetchFunc.
	ShapeFetch HostShape = "fetch"
	// ShapeLambdaV1, ShapeLambdaV2, ShapeFunctionURL: AWS Lambda handlers
	// behind API Gateway REST, HTTP API and a Function URL.
	ShapeLambdaV1    HostShape = "lambda-v1"
	ShapeLambdaV2    HostShape = "lambda-v2"
	ShapeFunctionURL HostShape = "function-url"
)

// IsLambda reports whether the shape is one of the Lambda gateways: an
// adapter of such a shape is a Lambda handler, run under a gateway emulation
// in process and under the Runtime API out of process, not served on a port.
// It lives here, with the shapes, so that an adapter can ask without
// importing the kit's runner.
func (s HostShape) IsLambda() bool {
	return s == ShapeLambdaV1 || s == ShapeLambdaV2 || s == ShapeFunctionURL
}

// Adapter is the object passed to SetAdapter (seed: AstroAdapter).
type Adapter struct {
	// Name is used for logging and in reports. Required.
	Name string `json:"name"`
	// ServerEntrypoint provides CreateExports and/or Start. In Astro it is a
	// module specifier; in Go it is the module itself.
	ServerEntrypoint *ServerEntrypoint `json:"-"`
	// ServerEntrypointName is the specifier an out-of-process adapter
	// declares (informational).
	ServerEntrypointName string `json:"serverEntrypoint,omitempty"`
	// Exports names what CreateExports returns. It must equal the keys of the
	// returned map exactly (seed: "provide this name in exports").
	Exports []string `json:"exports,omitempty"`
	// Shapes are the host shapes the adapter supports.
	Shapes []HostShape `json:"shapes,omitempty"`
	// Features are optional behaviors the adapter declares.
	Features AdapterFeatures `json:"adapterFeatures,omitempty"`
}

// AdapterFeatures mirrors Astro's AstroAdapterFeatures, reduced to what the
// kit can observe.
type AdapterFeatures struct {
	// MiddlewareMode: the exported handler passes requests the App does not
	// match to the host's next handler (Astro node adapter, mode "middleware").
	MiddlewareMode bool `json:"middlewareMode,omitempty"`
	// ServesStaticAssets: the adapter serves the manifest's static files.
	ServesStaticAssets bool `json:"servesStaticAssets,omitempty"`
}

// ServerEntrypoint is the seed's server entrypoint module.
type ServerEntrypoint struct {
	// CreateExports builds the named exports from the manifest.
	CreateExports func(m *Manifest) (map[string]any, error)
	// Start serves the app on ln until ctx is cancelled, then shuts down
	// gracefully (finishing in-flight requests) and returns.
	Start func(ctx context.Context, m *Manifest, ln net.Listener) error
}

// FetchFunc is the Go form of a fetch-style export (Request in, Response out).
type FetchFunc func(*http.Request) (*http.Response, error)

// MiddlewareFunc is the Go form of a middleware-mode export: it wraps the
// host's next handler.
type MiddlewareFunc func(next http.Handler) http.Handler
