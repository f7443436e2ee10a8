package contract_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/fixtures"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/fetch"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/handler"
	"github.com/adapterconformance/adapter-conformance/runner/contract"
)

func TestDescribe(t *testing.T) {
	dir := t.TempDir()
	if err := fixtures.Export("basic", dir); err != nil {
		t.Fatal(err)
	}
	t.Setenv(contract.EnvApp, dir)
	var out, errOut bytes.Buffer
	if code := contract.Run(handler.Integration(), []string{contract.DescribeFlag}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s", code, errOut.String())
	}
	var d contract.Description
	if err := json.Unmarshal(out.Bytes(), &d); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out.String())
	}
	if d.Contract != contract.Version || len(d.Calls) != 1 || d.Calls[0].Name != handler.Name || !d.Calls[0].HasCreateExports ||
		strings.Join(d.Exports, ",") != "handler" {
		t.Errorf("description = %+v", d)
	}
}

func TestRunWithoutAppDirFails(t *testing.T) {
	t.Setenv(contract.EnvApp, "")
	var out, errOut bytes.Buffer
	if code := contract.Run(handler.Integration(), nil, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), contract.EnvApp) {
		t.Fatalf("exit %d, stderr %q: want a failure naming %s", code, errOut.String(), contract.EnvApp)
	}
}

func TestServeFetchExportAndStop(t *testing.T) {
	m, err := fixtures.Load("basic")
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- contract.Serve(ctx, fetch.Integration(), m, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/about")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("GET /about through the fetch export: %d", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("Serve after cancel: %v", err)
	}
}

func TestServeRefusesAnAdapterWithoutEntrypoint(t *testing.T) {
	integ := app.Integration{Name: "x", Hooks: app.Hooks{ConfigDone: func(p app.ConfigDoneParams) error {
		p.SetAdapter(app.Adapter{Name: "x"})
		return nil
	}}}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	defer ln.Close()
	if err := contract.Serve(context.Background(), integ, nil, ln); err == nil {
		t.Error("Serve accepted an adapter with no server entrypoint")
	}
}

func TestClassify(t *testing.T) {
	var nilFetch app.FetchFunc
	for _, c := range []struct {
		v     any
		shape app.HostShape
		mw    bool
	}{
		{http.NotFoundHandler(), app.ShapeHandler, false},
		{func(http.ResponseWriter, *http.Request) {}, app.ShapeHandler, false},
		{app.FetchFunc(func(*http.Request) (*http.Response, error) { return nil, nil }), app.ShapeFetch, false},
		{func(h http.Handler) http.Handler { return h }, app.ShapeHandler, true},
		{nilFetch, "", false},
		{nil, "", false},
		{"a string", "", false},
	} {
		shape, mw, why := contract.Classify(c.v)
		if shape != c.shape || mw != c.mw || (shape == "") != (why != "") {
			t.Errorf("Classify(%T) = %q, %v, %q", c.v, shape, mw, why)
		}
	}
}
