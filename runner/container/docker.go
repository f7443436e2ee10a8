package container

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/api/pkg/stdcopy"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
)

// ErrNoDocker is wrapped by the errors of container targets when no Docker
// engine can be reached; errors.Is tells the caller to skip or to say so.
var ErrNoDocker = errors.New("no Docker engine is reachable")

// The labels the kit puts on every container and image it creates, so that
// leftovers of a killed run can be found and removed (SweepContainers).
const (
	// LabelManaged is "true" on everything the kit creates.
	LabelManaged = "adapter-conformance.managed"
	// LabelOwnerPID is the pid of the kit process that created it.
	LabelOwnerPID = "adapter-conformance.owner-pid"
	// LabelOwnerHost is the host name of the machine that process runs on.
	LabelOwnerHost = "adapter-conformance.owner-host"
	// LabelInstance ties every container of one Start together, so that
	// Stop removes them all, even those a half-done start left behind.
	LabelInstance = "adapter-conformance.instance"
	// LabelTarget names the target a container or image belongs to.
	LabelTarget = "adapter-conformance.target"
	// LabelBuildOwner is on every image a build of the kit makes, the
	// intermediate ones included, as "<host>/<pid>/<build id>". Docker's
	// classic builder commits build labels one image at a time in key
	// order, so an interrupted build can leave an image carrying only the
	// first few of them: this key sorts first, so every image with any kit
	// label carries its owner.
	LabelBuildOwner = "adapter-conformance.build-owner"
	// LabelContentHash is the sha256 of the build context an image was
	// built from (contextHash): the key of the image cache (cache.go).
	LabelContentHash = "adapter-conformance.content-hash"
	// LabelCached is "true" on an image built for the image cache: kept
	// after its run ends, for later runs of an unchanged build context,
	// while it is tagged (the sweep removes it only untagged, as the
	// leftover of an interrupted build).
	LabelCached = "adapter-conformance.cached"
)

// tcLog receives what testcontainers logs: never the user's terminal. It
// keeps the latest lines for error messages and debugging.
var tcLog = &ringLogger{limit: 64 << 10}

type ringLogger struct {
	mu    sync.Mutex
	buf   []byte
	limit int
}

func (l *ringLogger) Printf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = fmt.Appendf(l.buf, format, v...)
	if len(l.buf) == 0 || l.buf[len(l.buf)-1] != '\n' {
		l.buf = append(l.buf, '\n')
	}
	if over := len(l.buf) - l.limit; over > 0 {
		l.buf = append(l.buf[:0], l.buf[over:]...)
	}
}

func (l *ringLogger) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}

var configureOnce sync.Once

// ConfigureTestcontainers prepares testcontainers for the kit's container
// targets: Ryuk off (it would be pulled from a registry, and the kit removes
// what it starts itself) and testcontainers' logging away from the user's
// stdout and stderr, into a buffer the kit quotes in its errors. Both are
// process-wide (an environment variable and testcontainers' default logger),
// so no library code of the kit calls it: a program that runs container
// targets (the CLI, a test, a suite.Test user who asks for container mode)
// calls it once, before anything in the process uses testcontainers, which
// reads its configuration once per process. Calling it again does nothing.
// Without it, container targets still work when the environment already has
// TESTCONTAINERS_RYUK_DISABLED=true, and refuse to start otherwise.
func ConfigureTestcontainers() {
	configureOnce.Do(func() {
		os.Setenv("TESTCONTAINERS_RYUK_DISABLED", "true")
		tclog.SetDefault(tcLog)
	})
}

var provider struct {
	sync.Mutex
	p *testcontainers.DockerProvider
}

// dockerProvider returns the process's testcontainers Docker provider,
// or an error wrapping ErrNoDocker. A failure is not remembered, but
// testcontainers itself caches where the engine is.
func dockerProvider(ctx context.Context) (p *testcontainers.DockerProvider, err error) {
	provider.Lock()
	defer provider.Unlock()
	if provider.p != nil {
		return provider.p, nil
	}
	defer func() {
		// testcontainers' Must* helpers panic when no engine is found.
		if r := recover(); r != nil {
			p, err = nil, fmt.Errorf("%w: %v", ErrNoDocker, r)
		}
	}()
	p, err = testcontainers.NewDockerProvider(testcontainers.WithLogger(tcLog))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoDocker, err)
	}
	hctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := p.Health(hctx); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoDocker, err)
	}
	if !testcontainers.ReadConfig().RyukDisabled {
		return nil, errors.New("testcontainers runs with Ryuk, whose reaper image cannot be pulled without a registry: call container.ConfigureTestcontainers before anything uses testcontainers, or set TESTCONTAINERS_RYUK_DISABLED=true in the environment")
	}
	provider.p = p
	return p, nil
}

// DockerAvailable says whether a Docker engine answers; its error wraps
// ErrNoDocker with the reason.
func DockerAvailable(ctx context.Context) (err error) {
	p, err := dockerProvider(ctx)
	if err != nil {
		return err
	}
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w: %v", ErrNoDocker, r)
		}
	}()
	hctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := p.Health(hctx); err != nil {
		return fmt.Errorf("%w: %v", ErrNoDocker, err)
	}
	return nil
}

// daemonGOARCH is the GOARCH of the engine's machine.
func daemonGOARCH(ctx context.Context, cli client.APIClient) (string, error) {
	info, err := cli.Info(ctx, client.InfoOptions{})
	if err != nil {
		return "", fmt.Errorf("asking the Docker engine for its architecture: %w", err)
	}
	switch arch := info.Info.Architecture; arch {
	case "x86_64", "amd64":
		return "amd64", nil
	case "aarch64", "arm64":
		return "arm64", nil
	case "armv7l", "armv6l", "arm":
		return "arm", nil
	case "i386", "i686", "386":
		return "386", nil
	case "ppc64le", "s390x", "riscv64", "loong64", "mips64le":
		return arch, nil
	default:
		return "", fmt.Errorf("the Docker engine runs on %q, an architecture the kit cannot build for", arch)
	}
}

var hostname = sync.OnceValue(func() string {
	h, err := os.Hostname()
	if err != nil || h == "" {
		return "unknown"
	}
	return h
})

// ownerLabels mark a container or image as the kit's, made by this process.
func ownerLabels() map[string]string {
	return map[string]string{
		LabelManaged:   "true",
		LabelOwnerPID:  strconv.Itoa(os.Getpid()),
		LabelOwnerHost: hostname(),
	}
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// sanitizeImageName makes a name usable as one path component of an image
// repository: lower case letters, digits and single separators.
func sanitizeImageName(name string) string {
	var b strings.Builder
	sep := false
	for _, r := range strings.ToLower(name) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			sep = false
		case !sep && b.Len() > 0:
			b.WriteByte('-')
			sep = true
		}
	}
	s := strings.TrimRight(b.String(), "-")
	if len(s) > 64 {
		s = strings.TrimRight(s[:64], "-")
	}
	if s == "" {
		s = "adapter"
	}
	return s
}

// pidAlive reports whether a process with this pid exists on this host.
func pidAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

var sweepOnce sync.Once

// removalInProgress says whether the engine refused a removal because
// another client is removing the same container: Docker answers 409
// Conflict, "removal of container ... is already in progress".
func removalInProgress(err error) bool {
	return cerrdefs.IsConflict(err) && strings.Contains(err.Error(), "already in progress")
}

// SweepContainers removes the containers, and then the images, that a run
// of the kit on this host left behind when it was killed before it could
// clean up: those labelled adapter-conformance.managed=true whose owner-pid
// is no live process here. A tagged cached image (LabelCached) is no
// leftover: the sweep drops only the leases dead runs held on it.
// Container targets call it once per process before their first start.
// removed counts the containers. While another process holds the sweep
// lock (sweeplock.go) it removes nothing: that process is sweeping the
// same leftovers, or staging them on purpose.
func SweepContainers(ctx context.Context) (removed int, err error) {
	p, err := dockerProvider(ctx)
	if err != nil {
		return 0, err
	}
	cli := p.Client()
	// A lock that cannot be had for another reason (its file cannot be
	// made) does not stop the sweep: it is a guard against a race, and
	// the sweep is best done anyway.
	if held, lockErr := tryHoldSweeps(); held {
		defer releaseSweeps()
	} else if lockErr == nil {
		return 0, nil
	}
	filter := make(client.Filters).Add("label", LabelManaged+"=true", LabelOwnerHost+"="+hostname())
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	if err != nil {
		return 0, fmt.Errorf("listing the kit's containers: %w", err)
	}
	var errs []error
	for _, c := range list.Items {
		if !orphaned(c.Labels) {
			continue
		}
		_, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		switch {
		case err == nil:
			removed++
		case cerrdefs.IsNotFound(err), removalInProgress(err):
			// Gone, or going: another kit process on this machine swept
			// it first (each sweeps at its start).
		default:
			errs = append(errs, fmt.Errorf("removing leftover container %.12s: %w", c.ID, err))
		}
	}
	// Images by their build owner, intermediate ones included (All), so
	// that an interrupted build's partly labelled images are found.
	images, err := cli.ImageList(ctx, client.ImageListOptions{All: true, Filters: make(client.Filters).Add("label", LabelBuildOwner)})
	if err != nil {
		errs = append(errs, fmt.Errorf("listing the kit's images: %w", err))
	}
	// A parent goes with its last child (PruneChildren), and is in use
	// while a child is: a cached image's parents are left to it.
	parents := map[string]bool{}
	for _, img := range images.Items {
		parents[img.ParentID] = true
	}
	for _, img := range images.Items {
		if !buildOrphaned(img.Labels[LabelBuildOwner]) || parents[img.ID] {
			continue
		}
		if img.Labels[LabelCached] == "true" && tagged(img.RepoTags) {
			// A finished cached image outlives its builder; only its
			// untagged intermediate images, or a build cut before its
			// tag, are leftovers.
			continue
		}
		_, err := cli.ImageRemove(ctx, img.ID, client.ImageRemoveOptions{Force: true, PruneChildren: true})
		if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
			errs = append(errs, fmt.Errorf("removing leftover image %.19s: %w", img.ID, err))
		}
	}
	if err := sweepLeases(ctx, cli); err != nil {
		errs = append(errs, err)
	}
	return removed, errors.Join(errs...)
}

// OwnContainers lists the containers this process started that still
// exist, running or not (their names). After every target is stopped it
// must be empty: the kit's tests check it.
func OwnContainers(ctx context.Context) ([]string, error) {
	p, err := dockerProvider(ctx)
	if err != nil {
		return nil, err
	}
	filter := make(client.Filters).Add("label", LabelManaged+"=true", LabelOwnerHost+"="+hostname(), LabelOwnerPID+"="+strconv.Itoa(os.Getpid()))
	list, err := p.Client().ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	if err != nil {
		return nil, fmt.Errorf("listing the kit's containers: %w", err)
	}
	var names []string
	for _, c := range list.Items {
		names = append(names, fmt.Sprintf("%.12s %v (%s)", c.ID, c.Names, c.State))
	}
	return names, nil
}

// buildOwner is the LabelBuildOwner value of one image build of this process.
func buildOwner() string { return hostname() + "/" + strconv.Itoa(os.Getpid()) + "/" + randomHex(6) }

// buildOrphaned: a LabelBuildOwner value naming this host and a process
// that no longer runs.
func buildOrphaned(owner string) bool {
	host, rest, ok := strings.Cut(owner, "/")
	pidText, _, _ := strings.Cut(rest, "/")
	pid, err := strconv.Atoi(pidText)
	return ok && err == nil && host == hostname() && pid != os.Getpid() && !pidAlive(pid)
}

// removeBuild removes every image one build made (its LabelBuildOwner
// value), for a build that failed or was interrupted: the intermediate
// images it committed would otherwise stay, dangling.
func removeBuild(ctx context.Context, cli client.APIClient, owner string) error {
	images, err := cli.ImageList(ctx, client.ImageListOptions{All: true, Filters: make(client.Filters).Add("label", LabelBuildOwner+"="+owner)})
	if err != nil {
		return fmt.Errorf("listing the images of an unfinished build: %w", err)
	}
	var errs []error
	for _, img := range images.Items {
		if _, err := cli.ImageRemove(ctx, img.ID, client.ImageRemoveOptions{Force: true, PruneChildren: true}); err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
			errs = append(errs, fmt.Errorf("removing image %.19s of an unfinished build: %w", img.ID, err))
		}
	}
	return errors.Join(errs...)
}

// orphaned: made on this host by a process that no longer runs.
func orphaned(labels map[string]string) bool {
	if labels[LabelManaged] != "true" || labels[LabelOwnerHost] != hostname() {
		return false
	}
	pid, err := strconv.Atoi(labels[LabelOwnerPID])
	if err != nil {
		return false
	}
	return pid != os.Getpid() && !pidAlive(pid)
}

// removeInstance force-removes every container of one Start.
func removeInstance(ctx context.Context, cli client.APIClient, instance string) error {
	filter := make(client.Filters).Add("label", LabelInstance+"="+instance)
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{All: true, Filters: filter})
	if err != nil {
		return fmt.Errorf("listing the adapter's containers: %w", err)
	}
	var errs []error
	for _, c := range list.Items {
		if _, err := cli.ContainerRemove(ctx, c.ID, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true}); err != nil && !cerrdefs.IsNotFound(err) {
			errs = append(errs, fmt.Errorf("removing container %.12s: %w", c.ID, err))
		}
	}
	return errors.Join(errs...)
}

// containerOutput copies a container's stdout and stderr so far to the
// writers (nil: not wanted); the callers cap them.
func containerOutput(ctx context.Context, cli client.APIClient, id string, stdout, stderr io.Writer) error {
	rc, err := cli.ContainerLogs(ctx, id, client.ContainerLogsOptions{ShowStdout: stdout != nil, ShowStderr: stderr != nil})
	if err != nil {
		return err
	}
	defer rc.Close()
	if stdout == nil {
		stdout = io.Discard
	}
	if stderr == nil {
		stderr = io.Discard
	}
	_, err = stdcopy.StdCopy(stdout, stderr, rc)
	return err
}

var published struct {
	sync.Mutex
	host string
}

// publishedHost is the address at which this process reaches the ports the
// engine publishes. testcontainers guesses it from inside a container as the
// default route's gateway, which is wrong when the engine runs in the same
// container (or network namespace) as the kit: there, loopback is right.
func publishedHost(ctx context.Context, p *testcontainers.DockerProvider) (string, error) {
	published.Lock()
	defer published.Unlock()
	if published.host != "" {
		return published.host, nil
	}
	host, err := findPublishedHost(ctx, p)
	if err != nil {
		return "", fmt.Errorf("finding where the engine publishes ports: %w", err)
	}
	published.host = host
	return host, nil
}

func findPublishedHost(ctx context.Context, p *testcontainers.DockerProvider) (string, error) {
	if h := os.Getenv("TESTCONTAINERS_HOST_OVERRIDE"); h != "" {
		return h, nil
	}
	u, err := url.Parse(p.Client().DaemonHost())
	if err == nil && (u.Scheme == "unix" || u.Scheme == "npipe") {
		if _, err := os.Stat("/.dockerenv"); err != nil || engineSharesNetwork(ctx, p.Client()) {
			return "127.0.0.1", nil
		}
	}
	return p.DaemonHost(ctx)
}

// engineSharesNetwork: the gateway of the engine's default bridge is an
// address of this machine, so the engine's published ports are on our
// loopback too.
func engineSharesNetwork(ctx context.Context, cli client.APIClient) bool {
	nw, err := cli.NetworkInspect(ctx, "bridge", client.NetworkInspectOptions{})
	if err != nil {
		return false
	}
	var gateways []netip.Addr
	for _, cfg := range nw.Network.IPAM.Config {
		switch {
		case cfg.Gateway.IsValid():
			gateways = append(gateways, cfg.Gateway)
		case cfg.Subnet.IsValid():
			// The engine's default: the subnet's first address.
			gateways = append(gateways, cfg.Subnet.Masked().Addr().Next())
		}
	}
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		ipnet, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		ip, ok := netip.AddrFromSlice(ipnet.IP)
		if !ok {
			continue
		}
		if slices.Contains(gateways, ip.Unmap()) {
			return true
		}
	}
	return false
}

// tail is the end of s, at most n bytes, marked as cut when it is, as
// runner quotes an adapter's output in its errors.
func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "..." + s[len(s)-n:]
}
