package contract

import (
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"

	"github.com/aws/aws-lambda-go/lambda"

	"github.com/adapterconformance/adapter-conformance/app"
)

// Lambda functions under the process contract. A Lambda function does not
// listen: the kit serves the Lambda Runtime API and starts the executable
// with AWS_LAMBDA_RUNTIME_API pointing at it, and aws-lambda-go's
// lambda.Start serves the invocations. The only part of the contract such
// an executable must add is `--describe` (so the kit knows it is a Lambda
// function, and for which gateway) and loading the fixture app from
// ADAPTER_CONFORMANCE_APP. LambdaMain and LambdaBridge do both, then call
// lambda.Start.

// LambdaMain is the whole main of a Lambda adapter: it answers --describe,
// loads the fixture app, builds the exports and hands the first declared
// one to lambda.Start, which serves the Runtime API named by
// AWS_LAMBDA_RUNTIME_API and does not return.
func LambdaMain(integration app.Integration) {
	m, loadErr := loadApp()
	if slices.Contains(os.Args[1:], DescribeFlag) || os.Getenv(EnvDescribe) == "1" {
		if err := json.NewEncoder(os.Stdout).Encode(Describe(integration, m)); err != nil {
			lambdaFail(err)
		}
		os.Exit(0)
	}
	if loadErr != nil {
		lambdaFail(loadErr)
	}
	d := Declare(integration, m)
	a, ok := d.Adapter()
	if d.HookError != nil || !ok || a.ServerEntrypoint == nil || a.ServerEntrypoint.CreateExports == nil || len(a.Exports) == 0 {
		lambdaFail(fmt.Errorf("the integration declares no adapter with CreateExports and an export (hook error: %v)", d.HookError))
	}
	exports, err := CreateExports(a.ServerEntrypoint.CreateExports, m)
	if err != nil {
		lambdaFail(err)
	}
	lambda.Start(exports[a.Exports[0]])
}

// LambdaBridge is the whole main of a Lambda function built on a bridge, a
// library that turns an http.Handler into a Lambda handler (such as
// aws-lambda-go-api-proxy's httpadapter or aws-lambda-go's lambdaurl):
//
//	func main() {
//		contract.LambdaBridge("httpadapter-v2", app.ShapeLambdaV2, func(h http.Handler) any {
//			return httpadapter.NewV2(h).ProxyWithContext
//		})
//	}
//
// It is LambdaMain of BridgeIntegration(name, shape, bridge).
func LambdaBridge(name string, shape app.HostShape, bridge func(http.Handler) any) {
	LambdaMain(BridgeIntegration(name, shape, bridge))
}

// BridgeIntegration declares an adapter named name that serves one Lambda
// shape with one export, "handler": what bridge makes of the App served as
// an http.Handler (AppHandler). bridge may return anything lambda.Start
// accepts: a handler function, or a lambda.Handler. The same integration
// runs in-process (runner.InProcess) and, through LambdaBridge, as a binary.
func BridgeIntegration(name string, shape app.HostShape, bridge func(http.Handler) any) app.Integration {
	return app.Integration{Name: name, Hooks: app.Hooks{ConfigDone: func(p app.ConfigDoneParams) error {
		p.SetAdapter(app.Adapter{
			Name:     name,
			Exports:  []string{"handler"},
			Shapes:   []app.HostShape{shape},
			Features: app.AdapterFeatures{ServesStaticAssets: true},
			ServerEntrypoint: &app.ServerEntrypoint{CreateExports: func(m *app.Manifest) (map[string]any, error) {
				h, err := AppHandler(m)
				if err != nil {
					return nil, err
				}
				return map[string]any{"handler": bridge(h)}, nil
			}},
		})
		return nil
	}}}
}

// AppHandler builds the App for a manifest and serves it as an
// http.Handler, as the kit's good handler adapter does: a file of the
// public directory is served as it is, every other request is rendered by
// the App with the peer's address as clientAddress and the cookie API's
// cookies added, and the response is written with WriteResponse. It is the
// glue between a Lambda bridge and the App, so, like the good Lambda
// adapters, it takes the request's scheme from the X-Forwarded-Proto the
// gateway sets (LAMBDA-19): a request with "https" there is rendered as
// one that came over TLS.
func AppHandler(m *app.Manifest) (http.Handler, error) {
	a, err := app.New(m)
	if err != nil {
		return nil, err
	}
	files := StaticFiles(m)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// MATCH-4/5: a public file wins over every route (astro-behavior §8).
		if files != nil && IsPublic(a, r.URL.EscapedPath()) {
			files.ServeHTTP(w, r)
			return
		}
		peer := r.RemoteAddr
		if host, _, err := net.SplitHostPort(peer); err == nil {
			peer = host
		}
		if r.TLS == nil && strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto")), "https") {
			r = r.Clone(r.Context())
			r.TLS = &tls.ConnectionState{}
		}
		WriteResponse(w, a.Render(r, app.ClientAddress(peer), app.AddCookieHeader()))
	}), nil
}

// IsPublic reports whether an (encoded) URL path names one of the
// manifest's public files, with the base or without it: Astro's
// manifest.assets holds base-prefixed paths, and @astrojs/node serves a
// public file both under the base and without it (astro-behavior §14.2:
// `/app/robots.txt` and `/robots.txt` both give the file).
func IsPublic(a *app.App, urlPath string) bool {
	if a.IsAsset(urlPath) {
		return true
	}
	base := strings.TrimSuffix(a.Manifest().Base, "/")
	return base != "" && strings.HasPrefix(urlPath, "/") && a.IsAsset(base+urlPath)
}

// StaticFiles serves the manifest's public directory under its base, or is
// nil when there is none. Directories and dotfiles give 404 (MATCH-6).
func StaticFiles(m *app.Manifest) http.Handler {
	if m.Public == nil {
		return nil
	}
	files := http.FileServerFS(m.Public)
	base := strings.TrimSuffix(m.Base, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := strings.TrimPrefix(r.URL.Path, base)
		if strings.HasSuffix(p, "/") || strings.Contains(p, "/.") {
			http.NotFound(w, r)
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path, r2.URL.RawPath = p, ""
		files.ServeHTTP(w, r2)
	})
}

func loadApp() (*app.Manifest, error) {
	dir := os.Getenv(EnvApp)
	if dir == "" {
		return nil, errors.New(EnvApp + " is not set: it must name the fixture app's directory")
	}
	return app.LoadManifest(dir)
}

func lambdaFail(err error) {
	fmt.Fprintln(os.Stderr, "lambda adapter:", err)
	os.Exit(exitBadSetup)
}
