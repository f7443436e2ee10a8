// Command hanging-adapter serves the fixture app like the good standalone
// adapter, except that a request for /about never gets an answer: the spec
// that asks for it waits until the run's time runs out. It lets a test cut a
// run short in the middle of a spec, every time. When HANGING_ADAPTER_MARK
// names a file, the adapter creates it as the request arrives, so that a
// test can interrupt the run at that moment.
package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"slices"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/handler"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/standalone"
	"github.com/adapterconformance/adapter-conformance/runner/contract"
)

func main() {
	if slices.Contains(os.Args[1:], contract.DescribeFlag) {
		contract.Main(standalone.Integration())
	}
	m, err := app.LoadManifest(os.Getenv(contract.EnvApp))
	must(err)
	h, err := handler.New(m)
	must(err)
	ln, err := net.Listen("tcp", net.JoinHostPort(os.Getenv("HOST"), os.Getenv("PORT")))
	must(err)
	must(http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/about" {
			if mark := os.Getenv("HANGING_ADAPTER_MARK"); mark != "" {
				os.WriteFile(mark, nil, 0o644)
			}
			<-r.Context().Done()
			return
		}
		h.ServeHTTP(w, r)
	})))
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "hanging-adapter:", err)
		os.Exit(2)
	}
}
