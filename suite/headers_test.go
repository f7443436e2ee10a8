package suite_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/handler"
	goodlambda "github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/lambda"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// TestCommaJoinedHeadersPass: joining a repeated response header's values
// on one line with a bare "," (as published Lambda bridges do) gives the
// same field value as HTTP defines it (RFC 9110 §5.3, §5.6.1), so adapters
// that do it are positive controls: a handler wrapped to join them, and a
// payload v2 Lambda adapter whose headers map joins them with ",".
func TestCommaJoinedHeadersPass(t *testing.T) {
	eachInChild(t, func(t *testing.T, name string) {
		res, err := suite.Run(nil, runner.InProcess(name, commaJoinedAdapters[name](name)), suite.Quiet(), suite.Fixtures("basic"))
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range res.Failed() {
			for _, msg := range res.Messages(id) {
				t.Errorf("%s failed:\n%s", id, msg)
			}
		}
		for _, id := range []string{"HTTP-10", "RENDER-2"} {
			if !slices.Contains(res.Passed(), id) {
				t.Errorf("%s did not pass (passed: %q)", id, res.Passed())
			}
		}
	})
}

// commaJoinedAdapters are TestCommaJoinedHeadersPass's adapters by name,
// each run in a child process of its own (eachInChild).
var commaJoinedAdapters = map[string]func(name string) app.Integration{
	"good-handler-comma-joined":   commaJoinedHandler,
	"good-lambda-v2-comma-joined": commaJoinedLambdaV2,
}

// joinRepeated puts every repeated header but Set-Cookie on one line
// joined with a bare ",".
func joinRepeated(h http.Header) {
	for k, vs := range h {
		if k != "Set-Cookie" && len(vs) > 1 {
			h[k] = []string{strings.Join(vs, ",")}
		}
	}
}

// commaJoinedHandler is the good handler adapter behind a ResponseWriter
// that joins repeated headers when the header is written.
func commaJoinedHandler(name string) app.Integration {
	return wrappedGoodHandler(name, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(&joiningWriter{ResponseWriter: w}, r)
		})
	})
}

// wrappedGoodHandler is the good handler adapter (one handler export,
// static assets served) with wrap around each handler it creates: a test
// adapter that differs from the good one in its wrapper only.
func wrappedGoodHandler(name string, wrap func(http.Handler) http.Handler) app.Integration {
	return app.Integration{Name: name, Hooks: app.Hooks{ConfigDone: func(p app.ConfigDoneParams) error {
		p.SetAdapter(app.Adapter{
			Name:     name,
			Exports:  []string{"handler"},
			Shapes:   []app.HostShape{app.ShapeHandler},
			Features: app.AdapterFeatures{ServesStaticAssets: true},
			ServerEntrypoint: &app.ServerEntrypoint{CreateExports: func(m *app.Manifest) (map[string]any, error) {
				h, err := handler.New(m)
				if err != nil {
					return nil, err
				}
				return map[string]any{"handler": wrap(h)}, nil
			}},
		})
		return nil
	}}}
}

type joiningWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *joiningWriter) WriteHeader(code int) {
	if !w.wrote && code >= 200 {
		w.wrote = true
		joinRepeated(w.Header())
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *joiningWriter) Write(b []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

func (w *joiningWriter) Flush() {
	if !w.wrote {
		w.WriteHeader(http.StatusOK)
	}
	http.NewResponseController(w.ResponseWriter).Flush()
}

func (w *joiningWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// commaJoinedLambdaV2 is the good payload v2 adapter with its headers map
// joining repeated values with "," instead of ", ".
func commaJoinedLambdaV2(name string) app.Integration {
	return goodlambda.Integration(name, app.ShapeLambdaV2, func(a *app.App) any {
		return func(ctx context.Context, e events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
			r, err := goodlambda.RequestV2(ctx, e)
			if err != nil {
				return events.APIGatewayV2HTTPResponse{StatusCode: http.StatusBadRequest}, nil
			}
			resp := a.Render(r, goodlambda.RenderOptions(e.RequestContext.HTTP.SourceIP)...)
			joined := resp.Header.Clone()
			joinRepeated(joined)
			out, err := goodlambda.ResponseV2(resp)
			for k, vs := range joined {
				if k != "Set-Cookie" {
					out.Headers[k] = vs[0]
				}
			}
			return out, err
		}
	})
}
