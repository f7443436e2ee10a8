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
	eachInChild(t, func(t *testing.T, _ string) {
		expectAllPass(t, container.Container(adapterDir("good", "standalone"), runner.WithName("good-standalone"), runner.WithoutImageCache()), "basic", "trailing-never")
		expectNoContainers(t)
	})
}

func TestBrokenAdaptersAsContainers(t *testing.T) {
	needDocker(t)
	// One image for every broken adapter: BROKEN_ADAPTER picks the bug.
	// Every broken adapter whose registry entry expects failures in a
	// container (broken.Expect.Container).
	byName := map[string]expected{}
	for _, b := range brokenExpectations() {
		byName[b.Name] = b
	}
	eachInChild(t, func(t *testing.T, name string) {
		b := byName[name]
		want := b.Fails.Container
		target := container.Container(adapterDir("broken"), runner.WithName(name), runner.WithEnv("BROKEN_ADAPTER="+name),
			runner.WithReadinessTimeout(3*time.Second), runner.WithGracePeriod(2*time.Second), runner.WithoutImageCache())
		res, err := suite.Run(nil, target, suite.Quiet(), suite.Fixtures("basic"))
		if err != nil {
			t.Fatal(err)
		}
		if got := res.Failed(); !slices.Equal(got, slices.Sorted(slices.Values(want))) {
			t.Errorf("%s as a container failed %q, want %q%s", name, got, want, why(b.Fails))
		}
		expectNoContainers(t)
	})
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
	eachInChild(t, func(t *testing.T, name string) {
		res := expectAllPass(t, container.Container(adapterDir("good", "lambda", "cmd", name), runner.WithName("good-"+name), runner.WithoutImageCache()), "basic")
		if name == "function-url-streaming" && !slices.Contains(res.Passed(), "LAMBDA-15") {
			t.Errorf("LAMBDA-15 did not pass: the stream did not come through the Runtime API in a container")
		}
		expectNoContainers(t)
	})
}
