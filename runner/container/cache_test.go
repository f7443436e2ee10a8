package container_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/container"
)

// imageBuilt is the container target's report of how its image was had.
type imageBuilt interface {
	ImageBuilt() (reused, built bool, took time.Duration)
}

// removeCacheAtEnd empties the image cache of a target name when the test
// ends, and checks that nothing of this process's cached builds is left
// (the intermediate images included): tests leave no image behind.
func removeCacheAtEnd(t *testing.T, cli client.APIClient, name string) {
	t.Helper()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := container.RemoveCachedImages(ctx, name); err != nil {
			t.Errorf("RemoveCachedImages: %v", err)
		}
		host, _ := os.Hostname()
		list, err := cli.ImageList(ctx, client.ImageListOptions{All: true, Filters: make(client.Filters).Add("label", container.LabelCached+"=true")})
		if err != nil {
			t.Fatal(err)
		}
		for _, img := range list.Items {
			if img.Labels[container.LabelTarget] == name ||
				strings.HasPrefix(img.Labels[container.LabelBuildOwner], host+"/"+strconv.Itoa(os.Getpid())+"/") {
				t.Errorf("cached image %.19s %v (target %q) is left after RemoveCachedImages", img.ID, img.RepoTags, img.Labels[container.LabelTarget])
			}
		}
	})
}

// resolveImage resolves a target's image and returns its ID and whether it
// was reused from the cache.
func resolveImage(t testing.TB, cli client.APIClient, target runner.Target) (id string, reused bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ref, err := target.(imager).Image(ctx)
	if err != nil {
		t.Fatalf("Image: %v", err)
	}
	img, err := cli.ImageInspect(ctx, ref)
	if err != nil {
		t.Fatalf("inspecting %s: %v", ref, err)
	}
	reused, built, took := target.(imageBuilt).ImageBuilt()
	if reused == built {
		t.Errorf("ImageBuilt() = reused %v, built %v: want exactly one", reused, built)
	}
	t.Logf("image %s (%.19s): reused %v, built %v in %s", ref, img.ID, reused, built, took.Round(time.Millisecond))
	return img.ID, reused
}

func closeTarget(t testing.TB, target runner.Target) {
	t.Helper()
	if err := target.(io.Closer).Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestContainerImageCacheReusesAGoTarget: a Go target's image is kept after
// Close and the next target of the unchanged directory reuses it, without
// a build (the same image ID, and ImageBuilt says reused); the kit's
// static build of the Go package is reproducible, or the context's hash
// would differ each time. A run that holds the image keeps it when the
// cache is emptied under it, and it goes with that run's Close.
func TestContainerImageCacheReusesAGoTarget(t *testing.T) {
	cli := dockerClient(t)
	name := "cache-go-" + strconv.Itoa(os.Getpid())
	removeCacheAtEnd(t, cli, name)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	first := container.Container(fixtureAdapter("good", "standalone"), runner.WithName(name))
	built, reused := resolveImage(t, cli, first)
	if reused {
		t.Fatal("the first build of a new target name was reused from the cache")
	}
	closeTarget(t, first)
	img, err := cli.ImageInspect(ctx, built)
	if err != nil {
		t.Fatalf("the cached image is gone after Close: %v", err)
	}
	if img.Config.Labels[container.LabelCached] != "true" || len(img.Config.Labels[container.LabelContentHash]) != 64 {
		t.Errorf("labels of the cached image: %v", img.Config.Labels)
	}

	second := container.Container(fixtureAdapter("good", "standalone"), runner.WithName(name))
	again, reused := resolveImage(t, cli, second)
	if !reused || again != built {
		t.Errorf("the unchanged target's second image is %.19s (reused %v), want the cached %.19s reused", again, reused, built)
	}
	// Emptied under a live run, the cache keeps that run's image until
	// the run lets it go.
	if n, err := container.RemoveCachedImages(ctx, name); err != nil || n != 1 {
		t.Errorf("RemoveCachedImages = %d, %v; want 1 cache tag removed", n, err)
	}
	if _, err := cli.ImageInspect(ctx, again); err != nil {
		t.Errorf("the image a live target holds was removed with the cache: %v", err)
	}
	in := startTarget(t, second)
	if h := in.Host(app.ShapeStart); h == nil || h.StartError != nil {
		t.Fatalf("the held image does not start: %+v", h)
	}
	if err := in.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
	closeTarget(t, second)
	if _, err := cli.ImageInspect(ctx, again); !cerrdefs.IsNotFound(err) {
		t.Errorf("the uncached image outlived the Close of the last target holding it (inspect error: %v)", err)
	}
}

// TestContainerImageCacheFollowsTheContext: a build context that changes
// (a file's bytes, its mode) builds a new image; back to an earlier
// content, the earlier image is reused; and only the newest few images of
// a target name stay cached.
func TestContainerImageCacheFollowsTheContext(t *testing.T) {
	cli := dockerClient(t)
	name := "cache-ctx-" + strconv.Itoa(os.Getpid())
	removeCacheAtEnd(t, cli, name)
	dir := t.TempDir()
	write := func(file, body string, mode os.FileMode) {
		t.Helper()
		p := filepath.Join(dir, file)
		if err := os.WriteFile(p, []byte(body), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	write("Dockerfile", "FROM scratch\nCOPY f /f\n", 0o644)
	build := func() (string, bool) {
		t.Helper()
		target := container.Container(dir, runner.WithName(name))
		defer closeTarget(t, target)
		return resolveImage(t, cli, target)
	}

	write("f", "one\n", 0o644)
	one, reused := build()
	if reused {
		t.Fatal("a new context was reused")
	}
	if again, reused := build(); !reused || again != one {
		t.Errorf("unchanged context: %.19s reused %v, want %.19s reused", again, reused, one)
	}
	write("f", "two\n", 0o644)
	two, reused := build()
	if reused || two == one {
		t.Errorf("a changed file: %.19s reused %v, want a new build", two, reused)
	}
	write("f", "two\n", 0o600)
	twoPrivate, reused := build()
	if reused || twoPrivate == two {
		t.Errorf("a changed mode: %.19s reused %v, want a new build", twoPrivate, reused)
	}
	write("f", "one\n", 0o644)
	if back, reused := build(); !reused || back != one {
		t.Errorf("back to the first content: %.19s reused %v, want %.19s reused", back, reused, one)
	}
	write("f", "three\n", 0o644)
	if _, reused := build(); reused {
		t.Error("a fourth content was reused")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	list, err := cli.ImageList(ctx, client.ImageListOptions{Filters: make(client.Filters).Add("label", container.LabelTarget+"="+name, container.LabelCached+"=true")})
	if err != nil {
		t.Fatal(err)
	}
	var cached []string
	for _, img := range list.Items {
		for _, ref := range img.RepoTags {
			if strings.Contains(ref, ":cache-") {
				cached = append(cached, ref)
			}
		}
	}
	if len(cached) != 3 {
		t.Errorf("%d images of %s are cached, want the newest 3: %v", len(cached), name, cached)
	}
}

// TestSweepKeepsCachedImages: a cached image outlives the run that built
// it; the sweep keeps it (tagged) and drops the lease a dead run held on
// it, keeps a live run's lease, and still removes an untagged image of a
// dead run's build even when it carries the cached label (a build cut
// between its last commit and its tag).
func TestSweepKeepsCachedImages(t *testing.T) {
	cli := dockerClient(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	holdSweeps(ctx, t)
	host, _ := os.Hostname()
	dead := strconv.Itoa(deadPID(t))
	repo := "adapter-conformance/sweep-cache-" + strconv.Itoa(os.Getpid())
	build := func(body string, tags ...string) string {
		return buildDeadOwnerStandIn(ctx, t, cli, body, map[string]string{container.LabelBuildOwner: host + "/" + dead + "/" + body, container.LabelManaged: "true", container.LabelCached: "true",
			container.LabelOwnerHost: host, container.LabelOwnerPID: dead, container.LabelTarget: repo}, tags...)
	}
	deadLease := repo + ":lease-" + dead + "-abcd-" + tagHost(host)
	liveLease := repo + ":lease-" + strconv.Itoa(os.Getpid()) + "-abcd-" + tagHost(host)
	cached := build("cached\n", repo+":cache-0123", deadLease, liveLease)
	cutShort := build("cut short\n")
	if _, err := container.SweepContainers(ctx); err != nil {
		t.Errorf("SweepContainers: %v", err)
	}
	img, err := cli.ImageInspect(ctx, cached)
	if err != nil {
		t.Fatalf("the sweep removed a cached image: %v", err)
	}
	if !slices.Contains(img.RepoTags, repo+":cache-0123") || !slices.Contains(img.RepoTags, liveLease) || slices.Contains(img.RepoTags, deadLease) {
		t.Errorf("after the sweep the cached image is tagged %v: want its cache tag and the live lease, not the dead run's", img.RepoTags)
	}
	if _, err := cli.ImageInspect(ctx, cutShort); !cerrdefs.IsNotFound(err) {
		t.Errorf("the untagged image of a dead build is still there (inspect error: %v)", err)
	}
}

// tagHost is the host name as a lease tag spells it (cache.go).
func tagHost(host string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, host)
}

// BenchmarkContainerWarmVsCold compares, in one run, a container target's
// way to its first ready instance with its image reused from the cache
// (warm) and with a cold build (the Go build, the image build), and
// reports both and their ratio: the image cache is worth what the ratio
// says. Run it with: go test -run '^$' -bench WarmVsCold ./runner/container/
func BenchmarkContainerWarmVsCold(b *testing.B) {
	container.ConfigureTestcontainers()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	err := container.DockerAvailable(ctx)
	cancel()
	if err != nil {
		b.Skipf("the benchmark builds images and runs containers, and there is no Docker engine: %v", err)
	}
	name := "bench-cache-" + strconv.Itoa(os.Getpid())
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := container.RemoveCachedImages(ctx, name); err != nil {
			b.Errorf("RemoveCachedImages: %v", err)
		}
	}()
	m := loadBasic(b)
	// firstReady starts a new target once and stops it: how long until
	// its start host answered.
	firstReady := func(opts ...runner.Option) time.Duration {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		began := time.Now()
		target := container.Container(fixtureAdapter("good", "standalone"), opts...)
		defer closeTarget(b, target)
		in, err := target.Start(ctx, m)
		took := time.Since(began)
		defer in.Stop(ctx)
		if err != nil {
			b.Fatalf("Start: %v", err)
		}
		if h := in.Host(app.ShapeStart); h == nil || h.StartError != nil {
			b.Fatalf("start host %+v", h)
		}
		return took
	}
	firstReady(runner.WithName(name)) // fills the cache
	var warm, cold time.Duration
	n := 0
	for b.Loop() {
		cold += firstReady(runner.WithName(name+"-cold"), runner.WithoutImageCache())
		warm += firstReady(runner.WithName(name))
		n++
	}
	b.ReportMetric(cold.Seconds()/float64(n), "cold-s/op")
	b.ReportMetric(warm.Seconds()/float64(n), "warm-s/op")
	b.ReportMetric(cold.Seconds()/warm.Seconds(), "cold/warm")
}
