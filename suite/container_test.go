package suite_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/container"
	"github.com/adapterconformance/adapter-conformance/suite"
)

func needDocker(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds images and runs containers")
	}
	container.ConfigureTestcontainers()
	if err := container.DockerAvailable(context.Background()); err != nil {
		t.Skipf("no container engine: %v", err)
	}
}

func TestGoodAdapterAsContainer(t *testing.T) {
	needDocker(t)
	expectAllPass(t, container.Container(adapterDir("good", "standalone"), runner.WithName("good-standalone"), runner.WithoutImageCache()), "basic", "trailing-never")
	expectNoContainers(t)
}

// wantFailedAsContainer: the process-level bugs show the same in a container.
var wantFailedAsContainer = map[string][]string{
	"process-crashes-on-error": {"PROC-6", "RENDER-2"},
	"process-ignores-sigterm":  {"START-4", "START-5"},
	"process-never-ready":      {"START-1", "START-2", "START-6"},
	"process-describe-floods":  {"PROC-1"},
	"b12-notfound-200":         {"DIFF-1", "DIFF-3", "DIFF-4", "ERROR-6", "MATCH-6", "NOTFOUND-1", "NOTFOUND-4", "NOTFOUND-5", "NOTFOUND-6", "NOTFOUND-7", "PROC-2", "RENDER-2"}, // DIFF-3: a path variant that is a 404; DIFF-4: /page-null-404; DIFF-1: PUT to /api/echo
	// A Lambda adapter in a container polls the kit's Runtime API.
	"b04-lambda-v2-cookies-in-headers": {"DIFF-4", "HTTP-8", "HTTP-9", "LAMBDA-1", "RENDER-2"}, // DIFF-4: the cookie routes' plain requests
	// A streamed response posted to the Runtime API only once it is whole.
	"b35-lambda-furl-stream-buffered": {"LAMBDA-15"},
	// The differential corpus in a container: the framing-only control.
	"chunked-body-lost": {"DIFF-1"},
}

func TestBrokenAdaptersAsContainers(t *testing.T) {
	needDocker(t)
	// One image for every broken adapter: BROKEN_ADAPTER picks the bug.
	for name, want := range wantFailedAsContainer {
		t.Run(name, func(t *testing.T) {
			target := container.Container(adapterDir("broken"), runner.WithName(name), runner.WithEnv("BROKEN_ADAPTER="+name),
				runner.WithReadinessTimeout(3*time.Second), runner.WithGracePeriod(2*time.Second), runner.WithoutImageCache())
			res, err := suite.Run(nil, target, suite.Quiet(), suite.Fixtures("basic"))
			if err != nil {
				t.Fatal(err)
			}
			if got := res.Failed(); !slices.Equal(got, want) {
				t.Errorf("%s as a container failed %q, want %q", name, got, want)
			}
			expectNoContainers(t)
		})
	}
}

// expectNoContainers fails when a container this test process started is
// still there, running or not.
func expectNoContainers(t *testing.T) {
	t.Helper()
	left, err := container.OwnContainers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("containers left behind: %v", left)
	}
}

func TestGoodLambdaAdaptersAsContainers(t *testing.T) {
	needDocker(t)
	for _, name := range []string{"lambda-v2", "function-url-streaming"} {
		t.Run(name, func(t *testing.T) {
			res := expectAllPass(t, container.Container(adapterDir("good", "lambda", "cmd", name), runner.WithName("good-"+name), runner.WithoutImageCache()), "basic")
			if name == "function-url-streaming" && !slices.Contains(res.Passed(), "LAMBDA-15") {
				t.Errorf("LAMBDA-15 did not pass: the stream did not come through the Runtime API in a container")
			}
			expectNoContainers(t)
		})
	}
}
