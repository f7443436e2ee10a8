package container

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"path"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	mobycontainer "github.com/moby/moby/api/types/container"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/contract"
	"github.com/adapterconformance/adapter-conformance/runner/executable"
	"github.com/adapterconformance/adapter-conformance/runner/lambdahost"
)

// A Lambda adapter as a container target: the image describes itself like
// any other (--describe), and when it declares a Lambda host shape the kit
// runs it as a Lambda function instead of a server. The container gets
// AWS_LAMBDA_RUNTIME_API (and the rest of the Lambda environment) in place
// of HOST and PORT, and polls the kit's Runtime API, which listens where
// the container can reach it: on the gateway address of the engine's
// default bridge network when that address is this machine's, so that it
// is reachable from the bridge's containers and nothing further. The host
// is the emulated gateway of the declared shape, as for a Lambda binary.
// A runtime container that exits is replaced by a new one from the same
// image (a cold start), labelled like the others; Stop removes them all.

// lambdaLaunchTimeout bounds creating and starting one runtime container.
const lambdaLaunchTimeout = time.Minute

// dockerHostGateway is the name a fallback Runtime API address uses, mapped
// by the engine to its host (the host-gateway extra host, Docker 20.10+).
const dockerHostGateway = "host.docker.internal"

// startLambda runs the image as a Lambda function of a shape (the
// describe already ran; labels carry this Start's instance).
func (t *containerTarget) startLambda(ctx context.Context, in *runner.Instance, cli client.APIClient, image string, shape app.HostShape,
	files testcontainers.CustomizeRequestOption, labels map[string]string) (*runner.Instance, error) {
	ln, addr, extraHosts, err := runtimeAPIListener(ctx, cli)
	if err != nil {
		return in, err
	}
	api := lambdahost.ServeRuntimeAPI(ln)
	// What the container dials, which is not always what the kit listens on.
	api.Addr = addr

	kit := map[string]string{contract.EnvApp: ContainerAppDir}
	for _, kv := range lambdahost.Env(addr, taskRoot(ctx, cli, image)) {
		k, v, _ := strings.Cut(kv, "=")
		kit[k] = v
	}
	env := t.containerEnv(kit)
	launch := func() (lambdahost.Process, error) {
		return startLambdaContainer(cli, image, env, files, labels, extraHosts)
	}
	h, err := runner.RunLambdaRuntime(ctx, in, shape, api, launch, t.Timeouts().Readiness)
	if h != nil {
		in.Hosts = append(in.Hosts, h)
	}
	return in, err
}

// taskRoot is where the function's code is in the image: the directory of
// its entrypoint, as LAMBDA_TASK_ROOT is for a Lambda binary.
func taskRoot(ctx context.Context, cli client.APIClient, image string) string {
	if img, err := cli.ImageInspect(ctx, image); err == nil && img.Config != nil {
		cmd := img.Config.Entrypoint
		if len(cmd) == 0 {
			cmd = img.Config.Cmd
		}
		if len(cmd) > 0 && path.IsAbs(cmd[0]) {
			return path.Dir(cmd[0])
		}
	}
	return "/var/task"
}

// runtimeAPIListener listens for a Runtime API that containers on the
// engine's default bridge can reach, and returns the host:port they dial
// and any extra hosts they need for it. On the engine's own machine (or in
// its network namespace) that is the bridge's gateway address, bound alone.
// Otherwise (an engine in a VM, as Docker Desktop's) the kit listens on
// every interface and the containers dial host.docker.internal, which the
// engine maps to its host.
func runtimeAPIListener(ctx context.Context, cli client.APIClient) (ln net.Listener, addr string, extraHosts []string, err error) {
	gateways, inspectErr := bridgeGateways(ctx, cli)
	local := localAddrs()
	var tried []string
	for _, gw := range gateways {
		if !local[gw] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort(gw.String(), "0"))
		if err != nil {
			tried = append(tried, err.Error())
			continue
		}
		return l, l.Addr().String(), nil, nil
	}
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		return nil, "", nil, fmt.Errorf("listening for the Lambda Runtime API of a container (bridge gateways %v, inspect error %v, %s): %w",
			gateways, inspectErr, strings.Join(tried, "; "), err)
	}
	port := strconv.Itoa(l.Addr().(*net.TCPAddr).Port)
	return l, net.JoinHostPort(dockerHostGateway, port), []string{dockerHostGateway + ":host-gateway"}, nil
}

// bridgeGateways are the gateway addresses of the engine's default bridge.
func bridgeGateways(ctx context.Context, cli client.APIClient) ([]netip.Addr, error) {
	nw, err := cli.NetworkInspect(ctx, "bridge", client.NetworkInspectOptions{})
	if err != nil {
		return nil, err
	}
	var gateways []netip.Addr
	for _, cfg := range nw.Network.IPAM.Config {
		switch {
		case cfg.Gateway.IsValid():
			gateways = append(gateways, cfg.Gateway.Unmap())
		case cfg.Subnet.IsValid():
			// The engine's default: the subnet's first address.
			gateways = append(gateways, cfg.Subnet.Masked().Addr().Next().Unmap())
		}
	}
	return gateways, nil
}

// bridgePeers are the addresses a container on the default bridge sees the
// kit's requests to a published port come from: the bridge's gateway,
// where the engine's proxy (or its NAT) forwards them from. Nil when the
// bridge cannot be inspected.
func bridgePeers(ctx context.Context, cli client.APIClient) []string {
	gateways, err := bridgeGateways(ctx, cli)
	if err != nil {
		return nil
	}
	var out []string
	for _, g := range gateways {
		out = append(out, g.String())
	}
	return out
}

// localAddrs are the addresses of this machine's interfaces.
func localAddrs() map[netip.Addr]bool {
	out := map[netip.Addr]bool{}
	addrs, _ := net.InterfaceAddrs()
	for _, a := range addrs {
		if ipnet, ok := a.(*net.IPNet); ok {
			if ip, ok := netip.AddrFromSlice(ipnet.IP); ok {
				out[ip.Unmap()] = true
			}
		}
	}
	return out
}

// lambdaContainer is one runtime container: one execution environment.
type lambdaContainer struct {
	cli  client.APIClient
	id   string
	done chan struct{}
	// Set before final is set and done closed.
	finalLogs, finalStatus string
	// final is set once finalLogs is kept, before the container is removed.
	final atomic.Bool
}

// startLambdaContainer starts a runtime container from the image and
// watches for its end.
func startLambdaContainer(cli client.APIClient, image string, env map[string]string,
	files testcontainers.CustomizeRequestOption, labels map[string]string, extraHosts []string) (*lambdaContainer, error) {
	ctx, cancel := context.WithTimeout(context.Background(), lambdaLaunchTimeout)
	defer cancel()
	opts := []testcontainers.ContainerCustomizer{
		testcontainers.WithLogger(tcLog),
		testcontainers.WithEnv(env),
		files,
		testcontainers.WithLabels(labels),
	}
	if len(extraHosts) > 0 {
		opts = append(opts, testcontainers.WithHostConfigModifier(func(hc *mobycontainer.HostConfig) {
			hc.ExtraHosts = append(hc.ExtraHosts, extraHosts...)
		}))
	}
	ctr, err := testcontainers.Run(ctx, image, opts...)
	if err != nil {
		if ctr != nil {
			rctx, rcancel := context.WithTimeout(context.Background(), cleanupTimeout)
			defer rcancel()
			cli.ContainerRemove(rctx, ctr.GetContainerID(), client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
		}
		return nil, fmt.Errorf("starting a Lambda runtime container from %s: %w", image, err)
	}
	c := &lambdaContainer{cli: cli, id: ctr.GetContainerID(), done: make(chan struct{})}
	go c.watch()
	return c, nil
}

// watch waits for the container's end, keeps its output and status, and
// removes it: a new execution environment is a new container.
func (c *lambdaContainer) watch() {
	defer close(c.done)
	c.waitNotRunning()
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	buf := executable.NewOutputBuffer()
	var logs string
	if err := containerOutput(ctx, c.cli, c.id, buf, buf); err != nil {
		logs = buf.String() + fmt.Sprintf("\n[adapter-conformance: the container's logs could not be read: %v]", err)
	} else {
		logs = buf.String()
	}
	status := "was removed"
	if r, err := c.cli.ContainerInspect(ctx, c.id, client.ContainerInspectOptions{}); err == nil && r.Container.State != nil {
		if s := describeState(r.Container.State); s != "" {
			status = s
		}
	}
	c.finalLogs, c.finalStatus = logs, status
	c.final.Store(true)
	c.cli.ContainerRemove(ctx, c.id, client.ContainerRemoveOptions{Force: true, RemoveVolumes: true})
}

// waitNotRunning returns once the container no longer runs (or is gone).
func (c *lambdaContainer) waitNotRunning() {
	res := c.cli.ContainerWait(context.Background(), c.id, client.ContainerWaitOptions{Condition: mobycontainer.WaitConditionNotRunning})
	select {
	case <-res.Result:
		return
	case <-res.Error:
	}
	// The wait request failed: poll instead, and give up on an engine
	// that stops answering.
	failures := 0
	for failures < 50 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		r, err := c.cli.ContainerInspect(ctx, c.id, client.ContainerInspectOptions{})
		cancel()
		switch {
		case cerrdefs.IsNotFound(err):
			return
		case err != nil:
			failures++
		case r.Container.State == nil || describeState(r.Container.State) != "":
			return
		default:
			failures = 0
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func (c *lambdaContainer) Exited() <-chan struct{} { return c.done }

func (c *lambdaContainer) ExitStatus() string {
	select {
	case <-c.done:
		return c.finalStatus
	default:
		return ""
	}
}

func (c *lambdaContainer) Output() string {
	if c.final.Load() {
		return c.finalLogs
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	buf := executable.NewOutputBuffer()
	if err := containerOutput(ctx, c.cli, c.id, buf, buf); err != nil {
		if c.final.Load() { // it ended meanwhile
			return c.finalLogs
		}
		return buf.String() + fmt.Sprintf("\n[adapter-conformance: the container's logs could not be read: %v]", err)
	}
	return buf.String()
}

// kill is the Lambda service's end of an execution environment: SIGKILL.
func (c *lambdaContainer) Kill() {
	select {
	case <-c.done:
		return
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), cleanupTimeout)
	defer cancel()
	c.cli.ContainerKill(ctx, c.id, client.ContainerKillOptions{Signal: "SIGKILL"})
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
	}
}
