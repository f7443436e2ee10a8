// Package container is the kit's container target: an adapter built into
// an image (or found in the local Docker engine) and run with
// testcontainers-go under the process contract, as a server or as a Lambda
// function polling the kit's Runtime API, with every container and image
// labelled, removed by Stop and Close, and swept after a killed run.
//
// It is a package of its own, imported only by whoever uses container mode
// (the CLI, a test that asks for it), so that the suite, runner and reports
// link no container engine (issue 17; deps_test.go checks it). What it
// shares with the binary target comes from runner's executor.go.
package container

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	mobycontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/contract"
	"github.com/adapterconformance/adapter-conformance/runner/executable"
	"github.com/adapterconformance/adapter-conformance/runner/ownership"
)

// Where the kit puts things inside an adapter's container.
const (
	// ContainerAppDir is where the fixture app is copied, and what
	// ADAPTER_CONFORMANCE_APP says inside the container.
	ContainerAppDir = "/app"
	// ContainerPort is the PORT the adapter is given inside the container;
	// the engine publishes it on a free port of this host.
	ContainerPort = "8080"
	containerPort = ContainerPort + "/tcp"
	// buildTimeout bounds building a target's image.
	buildTimeout = 10 * time.Minute
	// cleanupTimeout bounds removing what a Start created.
	cleanupTimeout = 30 * time.Second
)

// Container is a target that runs in a container of the local Docker
// engine, under the process contract (runner/contract), listening on
// 0.0.0.0:8080 with the fixture app at /app.
//
// target is either a directory holding a Dockerfile or the name of an image
// the local engine already has (the kit never pulls). When the directory is,
// or has under cmd/ exactly one, Go main package, the kit cross-builds it as
// a static linux binary for the engine's architecture and builds the image
// from the directory's Dockerfile with that binary beside it, named
// `adapter`; such a Dockerfile reads:
//
//	FROM scratch
//	COPY adapter /adapter
//	EXPOSE 8080
//	ENTRYPOINT ["/adapter"]
//
// Any other directory is the build context itself. The image is resolved
// once per target, on the first Start (or Prepare).
//
// Such images are cached, as Go caches builds: an image is labelled with
// the content hash of its final build context (LabelContentHash) and kept
// after Close, and a later target whose build context hashes the same
// reuses it instead of building (see ImageBuilt); the newest three of a
// target name are kept. runner.WithoutImageCache builds afresh and has
// Close remove the image; RemoveCachedImages empties the cache.
//
// Containers are labelled (see LabelManaged) and every Instance.Stop removes
// its own; SweepContainers removes those of a run that was killed.
func Container(target string, opts ...runner.Option) runner.Target {
	t := &containerTarget{target: target, Settings: runner.ApplyOptions(opts...)}
	t.name = t.Settings.Name
	if t.name == "" {
		if fi, err := os.Stat(target); err == nil && fi.IsDir() {
			abs, _ := filepath.Abs(target)
			t.name = filepath.Base(abs)
		} else {
			t.name = target
		}
	}
	return t
}

type containerTarget struct {
	name   string
	target string
	runner.Settings

	// mu guards the image: it is resolved once, and Close releases it (or
	// removes it, when uncached), after which a new Start resolves it again.
	mu       sync.Mutex
	resolved bool
	image    string
	built    bool
	buildErr error
	// lease is the tag this target holds on a cached image (cache.go):
	// Close drops it, and the image stays in the cache.
	lease string
	// reused: the image came from the cache; buildTook is what building
	// it took, when it did not (a cold build).
	reused    bool
	buildTook time.Duration
}

// ImageBuilt says how the target's image was had once it was resolved:
// reused from the image cache (no build this run), or built (a cold build)
// and in how long. Both are false for an image given by name. The CLI
// prints it, since a cold build is most of a container run's time and
// tells why a run was slow.
func (t *containerTarget) ImageBuilt() (reused, built bool, took time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.reused, t.built && !t.reused, t.buildTook
}

func (t *containerTarget) Name() string      { return t.name }
func (t *containerTarget) Mode() runner.Mode { return runner.ModeContainer }

// Timeouts are the waits the target runs with (runner.TimeoutsOf).
func (t *containerTarget) Timeouts() runner.Timeouts { return t.Settings.Timeouts }

// Image returns the image the target runs, building it on first use when
// the target is a directory. Its error is a *executable.BuildError, wrapping
// ErrNoDocker when there is no engine.
func (t *containerTarget) Image(ctx context.Context) (string, error) {
	p, err := dockerProvider(ctx)
	if err != nil {
		return "", &executable.BuildError{Err: fmt.Errorf("container target %s: %w", t.target, err)}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if !t.resolved {
		t.image, t.built, t.buildErr = t.resolve(ctx, p)
		t.resolved = true
	}
	return t.image, t.buildErr
}

// Prepare builds the image, or checks that the named image is in the
// local engine (Preparer).
func (t *containerTarget) Prepare(ctx context.Context) error {
	_, err := t.Image(ctx)
	return err
}

// Close releases the image: a cached one stays in the cache, for the next
// run, and one built without the cache is removed. A later Start resolves
// it anew.
func (t *containerTarget) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	image, built, lease := t.image, t.built, t.lease
	t.resolved, t.image, t.built, t.buildErr, t.lease, t.reused, t.buildTook = false, "", false, nil, "", false, 0
	if !built {
		return nil
	}
	p, err := dockerProvider(context.Background())
	if err != nil {
		return fmt.Errorf("removing image %s: %w", image, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	if lease != "" {
		return releaseLease(ctx, p.Client(), lease)
	}
	_, err = p.Client().ImageRemove(ctx, image, client.ImageRemoveOptions{Force: true, PruneChildren: true})
	if err != nil && !cerrdefs.IsNotFound(err) {
		return fmt.Errorf("removing image %s: %w", image, err)
	}
	return nil
}

func (t *containerTarget) resolve(ctx context.Context, p *testcontainers.DockerProvider) (image string, built bool, err error) {
	fi, statErr := os.Stat(t.target)
	if statErr == nil {
		if !fi.IsDir() {
			return "", false, &executable.BuildError{Err: fmt.Errorf("container target %s is a file: give a directory holding a Dockerfile, or the name of an image in the local Docker engine", t.target)}
		}
		image, err = t.buildImage(ctx, p)
		return image, err == nil, err
	}
	if _, err := p.Client().ImageInspect(ctx, t.target); err != nil {
		why := "the local Docker engine has no such image"
		if !cerrdefs.IsNotFound(err) {
			why = err.Error()
		}
		return "", false, &executable.BuildError{Err: fmt.Errorf("container target %q is neither a directory holding a Dockerfile nor an image in the local Docker engine (%s; the kit does not pull images)", t.target, why)}
	}
	return t.target, false, nil
}

// buildImage builds a Dockerfile directory, with the Go main package's
// static binary beside the Dockerfile when it has one.
func (t *containerTarget) buildImage(ctx context.Context, p *testcontainers.DockerProvider) (string, error) {
	began := time.Now()
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	dir := t.target
	dockerfile := filepath.Join(dir, "Dockerfile")
	if fi, err := os.Stat(dockerfile); err != nil || fi.IsDir() {
		return "", &executable.BuildError{Err: fmt.Errorf("container target %s has no Dockerfile", dir)}
	}
	buildCtx := dir
	_, notGo := executable.MainPackage(ctx, dir)
	if notGo == nil {
		goarch, err := daemonGOARCH(ctx, p.Client())
		if err != nil {
			return "", &executable.BuildError{Err: err}
		}
		bin, binDir, err := executable.Build(ctx, dir, "linux", goarch)
		if err != nil {
			return "", err
		}
		defer os.RemoveAll(binDir)
		tmp, err := ownership.TempDir("image")
		if err != nil {
			return "", &executable.BuildError{Err: err}
		}
		defer os.RemoveAll(tmp)
		if err := copyFile(dockerfile, filepath.Join(tmp, "Dockerfile"), 0o644); err != nil {
			return "", &executable.BuildError{Err: err}
		}
		if err := copyFile(bin, filepath.Join(tmp, "adapter"), 0o755); err != nil {
			return "", &executable.BuildError{Err: err}
		}
		buildCtx = tmp
	}
	hash, err := contextHash(buildCtx)
	if err != nil {
		return "", &executable.BuildError{Err: err}
	}
	cli := p.Client()
	repo := "adapter-conformance/" + sanitizeImageName(t.name)
	cache := !t.NoImageCache
	if cache {
		if lease, _, ok := reuseCached(ctx, cli, repo, hash); ok {
			t.lease, t.reused = lease, true
			return lease, nil
		}
	}
	labels := ownerLabels()
	labels[LabelTarget] = t.name
	owner := buildOwner()
	labels[LabelBuildOwner] = owner
	labels[LabelContentHash] = hash
	tag := randomHex(6)
	if cache {
		labels[LabelCached] = "true"
		// Built under a lease of this run's, tagged for the cache after.
		tag = leaseTag()
	}
	buildLog := executable.NewOutputBuffer()
	attempt := func(noCache bool) (string, error) {
		req := &testcontainers.ContainerRequest{FromDockerfile: testcontainers.FromDockerfile{
			Context:        buildCtx,
			Dockerfile:     "Dockerfile",
			Repo:           repo,
			Tag:            tag,
			BuildLogWriter: buildLog,
			// The kit removes the image itself, in Close.
			KeepImage: true,
			BuildOptionsModifier: func(o *client.ImageBuildOptions) {
				o.Labels = labels
				o.NoCache = noCache
			},
		}}
		image, err := p.BuildImage(ctx, req)
		if err != nil {
			// What the build committed before it failed or was
			// interrupted goes too, even when ctx is what ended it.
			cleanup, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
			if rerr := removeBuild(cleanup, p.Client(), owner); rerr != nil {
				buildLog.Write([]byte("\nadapter-conformance: " + rerr.Error() + "\n"))
			}
			cancel()
		}
		return image, err
	}
	image, err := buildAvoidingVanishedCache(ctx, attempt, buildLog)
	if err != nil {
		msg := fmt.Sprintf("building the image of %s: %v", dir, err)
		if notGo != nil {
			msg += fmt.Sprintf(" (the directory was built as it is: %v)", notGo)
		}
		return "", &executable.BuildError{Err: fmt.Errorf("%s\n%s", msg, tail(buildLog.String(), 3000))}
	}
	t.buildTook = time.Since(began)
	if cache {
		t.lease = image
		// Untagged for the cache (an engine error), the image is still
		// this run's, under its lease, and goes when the lease does.
		if _, err := cli.ImageTag(ctx, client.ImageTagOptions{Source: image, Target: cacheRef(repo, hash)}); err == nil {
			if err := evictCached(ctx, cli, t.name); err != nil {
				tcLog.Printf("adapter-conformance: %v", err)
			}
		}
	}
	return image, nil
}

// buildAvoidingVanishedCache runs attempt with the engine's build cache
// and, when that build failed after taking a step from the cache or
// because an image it had found went away, once more without it. The classic builder takes no hold on the image a cached
// step names until it commits the next step on it, so another build's
// removal in between (a run's Close, a sweep, an eviction: each prunes the
// untagged parents of the image it removes) takes the image from under the
// build, which fails with "failed to get digest sha256:..." or "No such
// image". Concurrent kit runs on one engine (parallel CI jobs, the kit's
// own tests) meet this. A build without the cache commits every step
// itself and depends on no other build's images, so the second attempt
// cannot meet it; a Dockerfile that is broken fails both, and the log
// keeps both attempts.
func buildAvoidingVanishedCache(ctx context.Context, attempt func(noCache bool) (string, error), log executable.OutputBuffer) (string, error) {
	image, err := attempt(false)
	if err == nil || ctx.Err() != nil || !(usedBuildCache(log.String()) || imageVanished(err)) {
		return image, err
	}
	fmt.Fprintf(log, "\nadapter-conformance: the build failed (%v) after using the engine's build cache, whose images another build may have removed meanwhile; building again without the cache\n", err)
	return attempt(true)
}

// usedBuildCache: a build log shows a step taken from the build cache (the
// classic builder's "Using cache"; testcontainers-go builds with the
// classic builder).
func usedBuildCache(log string) bool { return strings.Contains(log, "---> Using cache") }

// imageVanished: a build failed because an image it had found went away.
// The builder looks through the parent image's children for a cached step
// before it logs anything for the step, so a removal then fails the build
// before any "Using cache" line; the engine says so in these words.
func imageVanished(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "failed to get digest") || strings.Contains(msg, "No such image") || strings.Contains(msg, "unable to find image")
}

func copyFile(src, dst string, mode os.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	// The build context's tar keeps the mode, whatever the umask did.
	return os.Chmod(dst, mode)
}

// env is the container's environment: the kit's, then the target's own.
func (t *containerTarget) containerEnv(kit map[string]string) map[string]string {
	env := make(map[string]string, len(kit)+len(t.Env))
	for k, v := range kit {
		env[k] = v
	}
	for _, kv := range t.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	return env
}

func (t *containerTarget) Start(ctx context.Context, m *app.Manifest) (*runner.Instance, error) {
	in := &runner.Instance{Target: t.name, Mode: runner.ModeContainer, Unsupported: map[string]string{}}
	image, err := t.Image(ctx)
	if err != nil {
		return in, err
	}
	p, err := dockerProvider(ctx)
	if err != nil {
		return in, err
	}
	cli := p.Client()
	sweepOnce.Do(func() {
		sctx, cancel := context.WithTimeout(ctx, cleanupTimeout)
		defer cancel()
		if n, err := SweepContainers(sctx); n > 0 || err != nil {
			tcLog.Printf("adapter-conformance: swept %d leftover containers: %v", n, err)
		}
	})

	// The copy into the container keeps the directory's base name.
	appDir, err := runner.ExportApp(in, m, filepath.Base(ContainerAppDir))
	if err != nil {
		return in, err
	}

	instance := randomHex(8)
	labels := ownerLabels()
	labels[LabelInstance] = instance
	labels[LabelTarget] = t.name
	// Whatever this Start created goes, even if it failed half-way.
	in.OnStop(func(ctx context.Context) error {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
		defer cancel()
		return removeInstance(ctx, cli, instance)
	})
	files := testcontainers.WithFiles(testcontainers.ContainerFile{HostFilePath: appDir, ContainerFilePath: ContainerAppDir, FileMode: 0o755})

	desc, err := t.describe(ctx, cli, image, files, labels)
	if err != nil {
		in.DescribeError = err
	} else {
		in.Declaration = executable.DeclarationOf(desc)
		in.Description = desc
	}
	if shapes := executable.DeclaredLambdaShapes(desc); len(shapes) > 0 {
		// A Lambda function does not listen: it polls the kit's Runtime API
		// (lambda.go), one function per declared shape.
		for _, shape := range shapes {
			if _, err := t.startLambda(ctx, in, cli, image, shape, files, labels); err != nil {
				return in, err
			}
		}
		return in, nil
	}

	host, err := publishedHost(ctx, p)
	if err != nil {
		return in, err
	}
	ready := &httpReady{host: host, timeout: t.Timeouts().Readiness}
	ctr, runErr := testcontainers.Run(ctx, image,
		testcontainers.WithLogger(tcLog),
		testcontainers.WithEnv(t.containerEnv(map[string]string{
			"HOST": "0.0.0.0", "PORT": ContainerPort, contract.EnvApp: ContainerAppDir,
		})),
		files,
		testcontainers.WithExposedPorts(containerPort),
		testcontainers.WithLabels(labels),
		testcontainers.WithConfigModifier(func(c *mobycontainer.Config) { c.StopSignal = "SIGTERM" }),
		testcontainers.WithWaitStrategyAndDeadline(t.Timeouts().Readiness, ready),
	)
	if ctr == nil {
		return in, fmt.Errorf("starting the adapter container from %s: %w", image, runErr)
	}
	c := &runningContainer{cli: cli, id: ctr.GetContainerID(), signalled: make(chan struct{})}
	// Port 0 when it is not running: an address that answers nothing.
	port, _ := ctr.MappedPort(ctx, containerPort)
	url := "http://" + net.JoinHostPort(host, strconv.Itoa(int(port.Num())))
	h := &runner.Host{Shape: app.ShapeStart, Export: "container", URL: url, Peers: bridgePeers(ctx, cli),
		Faults: &runner.FaultLog{}, NextCalls: &atomic.Int64{}, Logs: c.logs, ExitStatus: c.exitStatus, Signalled: c.signalled}
	var shutdownOnce sync.Once
	var shutdownErr error
	h.Shutdown = func(ctx context.Context) error {
		shutdownOnce.Do(func() { shutdownErr = c.terminate(ctx, runner.GraceUnder(ctx, t.Timeouts().Grace)) })
		return shutdownErr
	}
	in.OnStop(func(ctx context.Context) error {
		h.Shutdown(ctx)
		c.finish(ctx)
		return nil
	})
	in.Hosts = append(in.Hosts, h)
	if runErr != nil {
		h.StartError = c.startError(ctx, url, t.Timeouts().Readiness, runErr)
	}
	return in, nil
}

// describe runs the image once with --describe and the app at /app.
func (t *containerTarget) describe(ctx context.Context, cli client.APIClient, image string, files testcontainers.CustomizeRequestOption, labels map[string]string) (*contract.Description, error) {
	ctx, cancel := context.WithTimeout(ctx, t.Timeouts().Describe+cleanupTimeout)
	defer cancel()
	ctr, err := testcontainers.Run(ctx, image,
		testcontainers.WithLogger(tcLog),
		testcontainers.WithCmd(describeCommand(ctx, cli, image)...),
		testcontainers.WithEnv(t.containerEnv(map[string]string{contract.EnvApp: ContainerAppDir})),
		files,
		testcontainers.WithLabels(labels),
		testcontainers.WithWaitStrategyAndDeadline(t.Timeouts().Describe, wait.ForExit().WithExitTimeout(t.Timeouts().Describe)),
	)
	if ctr != nil {
		defer func() {
			rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
			ctr.Terminate(rctx, testcontainers.StopTimeout(0))
		}()
	}
	what := image + " " + contract.DescribeFlag
	if ctr == nil {
		return nil, fmt.Errorf("%s could not be started: %v", what, err)
	}
	capture := executable.NewDescribeCapture()
	stdout, stderr := capture.Writers()
	logErr := containerOutput(ctx, cli, ctr.GetContainerID(), stdout, stderr)
	if err != nil {
		err = fmt.Errorf("it did not exit within %s (%v)", t.Timeouts().Describe, err)
	} else if logErr != nil {
		return nil, fmt.Errorf("reading the output of %s: %w", what, logErr)
	} else if st, serr := ctr.State(ctx); serr != nil {
		return nil, fmt.Errorf("inspecting %s: %w", what, serr)
	} else if st.ExitCode != 0 {
		err = fmt.Errorf("exited with status %d", st.ExitCode)
	}
	return capture.Description(what, err)
}

// describeCommand is the container command that adds --describe to the
// image's own: the flag alone when it has an entrypoint, else its command
// and the flag.
func describeCommand(ctx context.Context, cli client.APIClient, image string) []string {
	if img, err := cli.ImageInspect(ctx, image); err == nil && img.Config != nil &&
		len(img.Config.Entrypoint) == 0 && len(img.Config.Cmd) > 0 {
		return append(append([]string(nil), img.Config.Cmd...), contract.DescribeFlag)
	}
	return []string{contract.DescribeFlag}
}
