// Command handwritten-adapter is a start-shape adapter written from README
// and SPEC.md alone, without contract.Main: it prints the documented
// --describe envelope by hand, loads the fixture app from
// ADAPTER_CONFORMANCE_APP, listens on HOST:PORT and stops gracefully on
// SIGTERM. The kit must pass it as a binary (issue 14: a correct adapter
// written from the text passes).
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"syscall"
	"time"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner/contract"
)

// description is README's envelope: the contract version, whether the
// config-done hook ran, and its one SetAdapter call.
const description = `{"contract":1,"hookRan":true,"setAdapterCalls":[{"name":"handwritten","shapes":["start"],"adapterFeatures":{"servesStaticAssets":true},"hasStart":true}]}`

func main() {
	if slices.Contains(os.Args[1:], "--describe") || os.Getenv("ADAPTER_CONFORMANCE_DESCRIBE") == "1" {
		fmt.Println(description)
		return
	}
	if err := serve(); err != nil {
		fmt.Fprintln(os.Stderr, "handwritten-adapter:", err)
		os.Exit(1)
	}
}

func serve() error {
	m, err := app.LoadManifest(os.Getenv("ADAPTER_CONFORMANCE_APP"))
	if err != nil {
		return err
	}
	a, err := app.New(m)
	if err != nil {
		return err
	}
	files := contract.StaticFiles(m)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if files != nil && contract.IsPublic(a, r.URL.EscapedPath()) {
			files.ServeHTTP(w, r)
			return
		}
		peer, _, _ := net.SplitHostPort(r.RemoteAddr)
		contract.WriteResponse(w, a.Render(r, app.ClientAddress(peer), app.AddCookieHeader()))
	})
	ln, err := net.Listen("tcp", net.JoinHostPort(os.Getenv("HOST"), os.Getenv("PORT")))
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 8*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
