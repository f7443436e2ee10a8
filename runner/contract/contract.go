// Package contract is the process contract between the kit and an adapter
// that runs as its own process (binary and container targets), and the
// helper an adapter's main calls to obey it:
//
//	func main() { contract.Main(myadapter.Integration()) }
//
// The contract (SPEC.md, area PROC):
//   - `adapter --describe` (or ADAPTER_CONFORMANCE_DESCRIBE=1) prints the
//     setAdapter declaration on stdout, wrapped in the description
//     envelope (Description, specified by describe.schema.json in this
//     directory; ExampleDescription is one), and exits 0.
//   - The fixture app is the directory named by ADAPTER_CONFORMANCE_APP
//     (manifest.json and public/, as fixtures.Export writes it).
//   - The server listens on HOST:PORT and answers HTTP within 10 s.
//   - On SIGTERM it stops accepting, finishes in-flight requests and exits 0
//     within 10 s. Logs go to stdout and stderr.
package contract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"reflect"
	"slices"
	"sort"
	"syscall"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-lambda-go/lambda"

	"github.com/adapterconformance/adapter-conformance/app"
)

// The contract's names. They are part of the kit's public interface.
const (
	EnvApp        = "ADAPTER_CONFORMANCE_APP"
	EnvDescribe   = "ADAPTER_CONFORMANCE_DESCRIBE"
	DescribeFlag  = "--describe"
	Version       = 1
	GracePeriod   = 10 * time.Second
	DefaultPort   = "8080"
	DefaultHost   = "0.0.0.0"
	exitServeFail = 1
	exitBadSetup  = 2
)

// Description is what `--describe` prints: the declaration, and what
// CreateExports returned for the app given in ADAPTER_CONFORMANCE_APP.
// describe.schema.json, next to this file, specifies it as a JSON Schema.
type Description struct {
	Contract     int               `json:"contract"`
	HookRan      bool              `json:"hookRan"`
	Calls        []Call            `json:"setAdapterCalls"`
	HookError    string            `json:"hookError,omitempty"`
	Exports      []string          `json:"createdExports,omitempty"`
	ExportsError string            `json:"createExportsError,omitempty"`
	Unsupported  map[string]string `json:"unsupportedExports,omitempty"`
}

// SchemaFile is the JSON Schema of the --describe output, in this package's
// directory of the kit's repository.
const SchemaFile = "runner/contract/describe.schema.json"

// ExampleDescription is the --describe output of an adapter with a Start
// entrypoint that called SetAdapter once: the smallest envelope the kit
// accepts for a start-shape adapter, shown where a description is wrong.
const ExampleDescription = `{"contract":1,"hookRan":true,"setAdapterCalls":[{"name":"my-adapter","shapes":["start"],"hasStart":true}]}`

// Call is one SetAdapter call as JSON can carry it.
type Call struct {
	app.Adapter
	HasCreateExports bool `json:"hasCreateExports"`
	HasStart         bool `json:"hasStart"`
}

// Declaration is what an integration's config-done hook did.
type Declaration struct {
	// Calls holds every SetAdapter call in order (DECL-1 wants exactly one).
	Calls []app.Adapter
	// HookError is what the hook returned, or a description of its panic.
	HookError error
	// HookRan is false when the integration has no config-done hook.
	HookRan bool
}

// Adapter returns the first declared adapter.
func (d *Declaration) Adapter() (app.Adapter, bool) {
	if len(d.Calls) == 0 {
		return app.Adapter{}, false
	}
	return d.Calls[0], true
}

// Declare runs the integration's config-done hook with a recording
// SetAdapter. A panicking hook is reported, not propagated.
func Declare(integration app.Integration, m *app.Manifest) (d Declaration) {
	if integration.Hooks.ConfigDone == nil {
		return d
	}
	d.HookRan = true
	defer func() {
		if p := recover(); p != nil {
			d.HookError = fmt.Errorf("config-done hook panicked: %v", p)
		}
	}()
	var cfg app.Config
	if m != nil {
		cfg = app.Config{Base: m.Base, TrailingSlash: m.TrailingSlash}
	}
	d.HookError = integration.Hooks.ConfigDone(app.ConfigDoneParams{
		Config:     cfg,
		SetAdapter: func(a app.Adapter) { d.Calls = append(d.Calls, a) },
	})
	return d
}

// CreateExports calls the entrypoint's CreateExports, turning a panic into an error.
func CreateExports(create func(*app.Manifest) (map[string]any, error), m *app.Manifest) (exports map[string]any, err error) {
	defer func() {
		if p := recover(); p != nil {
			exports, err = nil, fmt.Errorf("CreateExports panicked: %v", p)
		}
	}()
	return create(m)
}

// Classify names the host shape of an export value and whether it is a
// middleware, or gives the reason the kit cannot drive it (EXPORT-1). A
// Lambda handler without a typed event (a lambda.Handler, or a function on
// json.RawMessage, a map or any) is classified by ClassifyFor, which knows
// the declared shapes; Classify alone cannot place it.
func Classify(v any) (shape app.HostShape, middleware bool, why string) {
	return ClassifyFor(v, nil)
}

// ClassifyFor is Classify for an adapter that declares the given host
// shapes: a Lambda handler whose event type does not say which gateway it
// serves (a lambda.Handler, which is what published bridges return, or a
// function whose event is not an aws-lambda-go event type) serves the one
// Lambda shape the declaration names.
func ClassifyFor(v any, declared []app.HostShape) (shape app.HostShape, middleware bool, why string) {
	switch f := v.(type) {
	case nil:
		return "", false, "the export is nil"
	case http.HandlerFunc:
		if f == nil {
			return "", false, "the export is a nil http.HandlerFunc"
		}
		return app.ShapeHandler, false, ""
	case http.Handler:
		return app.ShapeHandler, false, ""
	case func(http.ResponseWriter, *http.Request):
		if f == nil {
			return "", false, "the export is a nil handler func"
		}
		return app.ShapeHandler, false, ""
	case app.FetchFunc:
		if f == nil {
			return "", false, "the export is a nil fetch func"
		}
		return app.ShapeFetch, false, ""
	case func(*http.Request) (*http.Response, error):
		if f == nil {
			return "", false, "the export is a nil fetch func"
		}
		return app.ShapeFetch, false, ""
	case app.MiddlewareFunc:
		if f == nil {
			return "", false, "the export is a nil middleware func"
		}
		return app.ShapeHandler, true, ""
	case func(http.Handler) http.Handler:
		if f == nil {
			return "", false, "the export is a nil middleware func"
		}
		return app.ShapeHandler, true, ""
	}
	shape, untyped, why := lambdaShape(v)
	if why != "" {
		return "", false, why
	}
	if untyped {
		return declaredLambdaShape(v, declared)
	}
	if shape != "" {
		return shape, false, ""
	}
	return "", false, fmt.Sprintf("the export has type %T, which is none of http.Handler, app.FetchFunc, app.MiddlewareFunc or a Lambda handler", v)
}

// declaredLambdaShape is the shape of a Lambda handler whose event type
// does not name its gateway: the one Lambda shape the adapter declares.
func declaredLambdaShape(v any, declared []app.HostShape) (app.HostShape, bool, string) {
	var lambdas []app.HostShape
	for _, s := range declared {
		if isLambdaShape(s) && !slices.Contains(lambdas, s) {
			lambdas = append(lambdas, s)
		}
	}
	switch len(lambdas) {
	case 1:
		return lambdas[0], false, ""
	case 0:
		return "", false, fmt.Sprintf("the export is a Lambda handler (%T) whose event type does not say which gateway it serves, and the declaration names no Lambda shape (lambda-v1, lambda-v2, function-url) for it", v)
	}
	return "", false, fmt.Sprintf("the export is a Lambda handler (%T) whose event type does not say which gateway it serves, and the declaration names several Lambda shapes (%v): declare one, or give the handler a typed event", v, lambdas)
}

func isLambdaShape(s app.HostShape) bool {
	return s == app.ShapeLambdaV1 || s == app.ShapeLambdaV2 || s == app.ShapeFunctionURL
}

// lambdaEvents maps the aws-lambda-go event types to the Lambda host shapes.
var lambdaEvents = map[reflect.Type]app.HostShape{
	reflect.TypeFor[events.APIGatewayProxyRequest]():   app.ShapeLambdaV1,
	reflect.TypeFor[events.APIGatewayV2HTTPRequest]():  app.ShapeLambdaV2,
	reflect.TypeFor[events.LambdaFunctionURLRequest](): app.ShapeFunctionURL,
}

// eventsPackage is where aws-lambda-go's event types live: a handler on one
// of them other than the three above serves another trigger (SQS, ALB, ...).
var eventsPackage = reflect.TypeFor[events.APIGatewayProxyRequest]().PkgPath()

// lambdaShape recognises a Lambda handler export, any value aws-lambda-go's
// lambda.NewHandler accepts: a lambda.Handler (Invoke(ctx, []byte)), or a
// function ((ctx?, event?) returning (out?, error?)). A function whose event
// is an API Gateway v1, v2 or Function URL request gives that shape; a
// lambda.Handler, or a function with no event or an event type that is not
// aws-lambda-go's, is untyped: its shape is the declared one. It returns
// "", false, "" for a value that is no Lambda handler at all, and a reason
// for one that looks like a Lambda handler but is not one lambda.Start
// accepts or serves another trigger.
func lambdaShape(v any) (shape app.HostShape, untyped bool, why string) {
	if h, ok := v.(lambda.Handler); ok {
		if rv := reflect.ValueOf(h); nilable(rv) && rv.IsNil() {
			return "", false, fmt.Sprintf("the export is a nil %T", v)
		}
		return "", true, ""
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Func {
		return "", false, ""
	}
	t := rv.Type()
	ctxType, errType := reflect.TypeFor[context.Context](), reflect.TypeFor[error]()
	takesCtx := t.NumIn() > 0 && t.In(0) == ctxType
	var ev reflect.Type
	switch {
	case t.NumIn() == 2 && takesCtx, t.NumIn() == 1 && !takesCtx:
		ev = t.In(t.NumIn() - 1)
	case t.NumIn() > 2 || t.NumIn() == 2:
		if t.NumIn() == 2 && !takesCtx {
			if _, known := lambdaEvents[deref(t.In(1))]; known {
				return "", false, fmt.Sprintf("the export takes a %s but is not a Lambda handler: its arguments must be (context.Context, event) or (event)", deref(t.In(1)))
			}
		}
		if t.NumIn() > 2 {
			if _, known := lambdaEvents[deref(t.In(t.NumIn()-1))]; known {
				return "", false, fmt.Sprintf("the export takes a %s but is not a Lambda handler: its arguments must be (context.Context, event) or (event)", deref(t.In(t.NumIn()-1)))
			}
		}
		return "", false, ""
	}
	if ev != nil && ev.Kind() == reflect.Interface && ev.NumMethod() > 0 {
		return "", false, "" // lambda.NewHandler rejects it: an interface event other than any
	}
	returnsOK := t.NumOut() <= 2 && (t.NumOut() == 0 || t.Out(t.NumOut()-1).Implements(errType))
	if ev != nil {
		shape = lambdaEvents[deref(ev)]
	}
	switch {
	case shape != "" && rv.IsNil():
		return "", false, "the export is a nil Lambda handler"
	case shape != "" && !returnsOK:
		return "", false, fmt.Sprintf("the export takes a %s but is not a Lambda handler: it must return (response, error), error or nothing", deref(ev))
	case shape != "":
		return shape, false, ""
	case !returnsOK || t.NumOut() == 0 && ev == nil && !takesCtx:
		// Not recognisably a Lambda handler (func() and the like are
		// left to the other export types' message).
		return "", false, ""
	case ev != nil && deref(ev).PkgPath() == eventsPackage:
		return "", false, fmt.Sprintf("the export is a Lambda handler for %s, which is not an API Gateway REST (events.APIGatewayProxyRequest), HTTP API (events.APIGatewayV2HTTPRequest) or Function URL (events.LambdaFunctionURLRequest) event", deref(ev))
	case rv.IsNil():
		return "", false, "the export is a nil Lambda handler"
	}
	return "", true, ""
}

func deref(t reflect.Type) reflect.Type {
	if t.Kind() == reflect.Pointer {
		return t.Elem()
	}
	return t
}

func nilable(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Func, reflect.Chan, reflect.Interface:
		return true
	}
	return false
}

// Describe builds the Description of an integration for a manifest (nil
// when the kit gave none).
func Describe(integration app.Integration, m *app.Manifest) Description {
	d := Declare(integration, m)
	out := Description{Contract: Version, HookRan: d.HookRan}
	if d.HookError != nil {
		out.HookError = d.HookError.Error()
	}
	for _, c := range d.Calls {
		call := Call{Adapter: c}
		if ep := c.ServerEntrypoint; ep != nil {
			call.HasCreateExports, call.HasStart = ep.CreateExports != nil, ep.Start != nil
		}
		out.Calls = append(out.Calls, call)
	}
	a, ok := d.Adapter()
	if ok && a.ServerEntrypoint != nil && a.ServerEntrypoint.CreateExports != nil && m != nil {
		exports, err := CreateExports(a.ServerEntrypoint.CreateExports, m)
		if err != nil {
			out.ExportsError = err.Error()
		}
		for name, v := range exports {
			out.Exports = append(out.Exports, name)
			if _, _, why := ClassifyFor(v, a.Shapes); why != "" {
				if out.Unsupported == nil {
					out.Unsupported = map[string]string{}
				}
				out.Unsupported[name] = why
			}
		}
		sort.Strings(out.Exports)
	}
	return out
}

// Main runs an adapter process under the contract and exits: it is the
// whole main function of a contract-obeying adapter.
func Main(integration app.Integration) {
	os.Exit(Run(integration, os.Args[1:], os.Stdout, os.Stderr))
}

// Run is Main without the exit, for tests: it returns the exit status.
func Run(integration app.Integration, args []string, stdout, stderr io.Writer) int {
	var m *app.Manifest
	var loadErr error
	if dir := os.Getenv(EnvApp); dir != "" {
		m, loadErr = app.LoadManifest(dir)
	} else {
		loadErr = fmt.Errorf("%s is not set: it must name the fixture app's directory", EnvApp)
	}
	if slices.Contains(args, DescribeFlag) || os.Getenv(EnvDescribe) == "1" {
		enc := json.NewEncoder(stdout)
		if err := enc.Encode(Describe(integration, m)); err != nil {
			fmt.Fprintln(stderr, "adapter: writing the description:", err)
			return exitBadSetup
		}
		return 0
	}
	if loadErr != nil {
		fmt.Fprintln(stderr, "adapter:", loadErr)
		return exitBadSetup
	}
	host, port := os.Getenv("HOST"), os.Getenv("PORT")
	if host == "" {
		host = DefaultHost
	}
	if port == "" {
		port = DefaultPort
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(host, port))
	if err != nil {
		fmt.Fprintln(stderr, "adapter:", err)
		return exitBadSetup
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	fmt.Fprintf(stderr, "adapter: listening on %s\n", ln.Addr())
	if err := Serve(ctx, integration, m, ln); err != nil {
		fmt.Fprintln(stderr, "adapter:", err)
		return exitServeFail
	}
	return 0
}

// Serve serves the adapter on ln until ctx is done: through Start when the
// entrypoint has one, else through its first drivable export (a handler, a
// fetch function, or a middleware in front of a plain 404).
func Serve(ctx context.Context, integration app.Integration, m *app.Manifest, ln net.Listener) error {
	d := Declare(integration, m)
	if d.HookError != nil {
		return fmt.Errorf("config-done hook: %w", d.HookError)
	}
	a, ok := d.Adapter()
	if !ok || a.ServerEntrypoint == nil {
		return errors.New("the config-done hook declared no adapter with a server entrypoint")
	}
	if a.ServerEntrypoint.Start != nil {
		return a.ServerEntrypoint.Start(ctx, m, ln)
	}
	if a.ServerEntrypoint.CreateExports == nil {
		return errors.New("the server entrypoint has neither Start nor CreateExports")
	}
	exports, err := CreateExports(a.ServerEntrypoint.CreateExports, m)
	if err != nil {
		return err
	}
	h := pickHandler(a.Exports, exports)
	if h == nil {
		return errors.New("no export is an http.Handler, a fetch function or a middleware")
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), GracePeriod-time.Second)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-served; err == nil && !errors.Is(serr, http.ErrServerClosed) {
		err = serr
	}
	return err
}

func pickHandler(declared []string, exports map[string]any) http.Handler {
	names := append([]string(nil), declared...)
	for n := range exports {
		if !slices.Contains(names, n) {
			names = append(names, n)
		}
	}
	for _, want := range []string{"handler", "fetch", "middleware"} {
		for _, n := range names {
			v := exports[n]
			shape, middleware, _ := Classify(v)
			switch {
			case want == "handler" && shape == app.ShapeHandler && !middleware:
				if f, ok := v.(func(http.ResponseWriter, *http.Request)); ok {
					return http.HandlerFunc(f)
				}
				return v.(http.Handler)
			case want == "fetch" && shape == app.ShapeFetch:
				return FetchHandler(asFetch(v), nil)
			case want == "middleware" && middleware:
				return asMiddleware(v)(http.NotFoundHandler())
			}
		}
	}
	return nil
}

func asFetch(v any) app.FetchFunc {
	if f, ok := v.(app.FetchFunc); ok {
		return f
	}
	return v.(func(*http.Request) (*http.Response, error))
}

func asMiddleware(v any) app.MiddlewareFunc {
	if f, ok := v.(app.MiddlewareFunc); ok {
		return f
	}
	return v.(func(http.Handler) http.Handler)
}

// FetchHandler hosts a fetch-style export behind net/http, the way a fetch
// host (Deno serve, Workers) does: the response's headers and status, then
// its body, flushed as it arrives. fault, when non-nil, is told of every
// breach of the fetch contract (EXPORT-2), which is answered with a 502.
func FetchHandler(fetch app.FetchFunc, fault func(r *http.Request, what string)) http.Handler {
	report := func(r *http.Request, what string) {
		if fault != nil {
			fault(r, what)
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		resp, panicked, err := callFetch(fetch, r)
		switch {
		case panicked != "":
			report(r, "the fetch export panicked: "+panicked)
			http.Error(w, "fetch export panicked", http.StatusBadGateway)
			return
		case resp == nil && err == nil:
			report(r, "the fetch export returned neither a response nor an error")
			http.Error(w, "fetch export returned nothing", http.StatusBadGateway)
			return
		case resp != nil && err != nil:
			report(r, "the fetch export returned both a response and an error: "+err.Error())
			if resp.Body != nil {
				resp.Body.Close()
			}
			http.Error(w, "fetch export returned a response and an error", http.StatusBadGateway)
			return
		case err != nil:
			http.Error(w, "fetch export failed: "+err.Error(), http.StatusBadGateway)
			return
		case resp.StatusCode < 100 || resp.StatusCode > 999:
			report(r, fmt.Sprintf("the fetch export returned a response with status %d, which HTTP cannot carry", resp.StatusCode))
			if resp.Body != nil {
				resp.Body.Close()
			}
			http.Error(w, "fetch export returned an invalid status", http.StatusBadGateway)
			return
		}
		WriteResponse(w, resp)
	})
}

func callFetch(fetch app.FetchFunc, r *http.Request) (resp *http.Response, panicked string, err error) {
	defer func() {
		if p := recover(); p != nil {
			panicked = fmt.Sprint(p)
		}
	}()
	resp, err = fetch(r)
	return resp, "", err
}

// WriteResponse copies an *http.Response to a client: every header value on
// its own line, the status, then the body, flushed after every read so a
// streamed body stays streamed. A body that fails mid-way aborts the
// connection, so the client sees a truncated response rather than a clean end.
func WriteResponse(w http.ResponseWriter, resp *http.Response) {
	body := resp.Body
	if body == nil {
		body = http.NoBody
	}
	defer body.Close()
	for k, vs := range resp.Header {
		w.Header()[k] = append([]string(nil), vs...)
	}
	w.WriteHeader(resp.StatusCode)
	flusher, _ := w.(http.Flusher)
	buf := make([]byte, 32<<10)
	for {
		n, err := body.Read(buf)
		if n > 0 {
			if _, werr := w.Write(buf[:n]); werr != nil {
				return
			}
			if flusher != nil {
				flusher.Flush()
			}
		}
		if err == io.EOF {
			return
		}
		if err != nil {
			panic(http.ErrAbortHandler)
		}
	}
}
