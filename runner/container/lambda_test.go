package container_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/runner/container"
	"github.com/adapterconformance/adapter-conformance/runner/lambdahost"
)

// getThrough sends GET path through a host with a request id, and returns
// the status and body.
func getThrough(t *testing.T, h *runner.Host, path, id string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, h.URL+path, nil)
	req.Header.Set(lambdahost.RequestIDHeader, id)
	c := &http.Client{Timeout: 30 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// runningOf lists the running containers this process made for a target.
func runningOf(t *testing.T, cli client.APIClient, target string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	f := make(client.Filters).Add("label", container.LabelOwnerPID+"="+strconv.Itoa(os.Getpid()), container.LabelTarget+"="+target).
		Add("status", "running")
	list, err := cli.ContainerList(ctx, client.ContainerListOptions{Filters: f})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range list.Items {
		ids = append(ids, c.ID)
	}
	return ids
}

// TestContainerLambdaV2: the good payload-v2 Lambda adapter, built into an
// image FROM scratch, describes itself, runs against the kit's Runtime API
// from inside its container and answers through the emulated gateway; a
// runtime container that dies is replaced by a new one (a cold start);
// Stop leaves no container and Close removes the image.
func TestContainerLambdaV2(t *testing.T) {
	cli := dockerClient(t)
	target := containerTarget(t, cli, fixtureAdapter("good", "lambda", "cmd", "lambda-v2"))
	if target.Name() != "lambda-v2" {
		t.Errorf("Name() = %q", target.Name())
	}
	in := startTarget(t, target)
	if in.DescribeError != nil {
		t.Fatalf("describe: %v", in.DescribeError)
	}
	if a, ok := in.Declaration.Adapter(); !ok || a.Name != "good-lambda-v2" {
		t.Errorf("declaration %+v", in.Declaration)
	}
	if len(in.Hosts) != 1 {
		t.Fatalf("hosts %+v, want one", in.Hosts)
	}
	h := in.Host(app.ShapeLambdaV2)
	if h == nil {
		t.Fatalf("no %s host: %+v", app.ShapeLambdaV2, in.Hosts[0])
	}
	if h.StartError != nil {
		t.Fatalf("StartError: %v", h.StartError)
	}
	if h.Export != "runtime" || h.WorkDir != "" {
		t.Errorf("Export %q, WorkDir %q", h.Export, h.WorkDir)
	}
	api := h.Runtime
	if api == nil || h.Gateway == nil {
		t.Fatal("the host has no Runtime API or no gateway")
	}
	t.Logf("host URL %s, AWS_LAMBDA_RUNTIME_API=%s", h.URL, api.Addr)
	if host, _, _ := net.SplitHostPort(api.Addr); host == "127.0.0.1" || host == "0.0.0.0" || host == "" {
		t.Errorf("AWS_LAMBDA_RUNTIME_API=%s cannot be reached from a container", api.Addr)
	}

	began := time.Now()
	status, body := getThrough(t, h, "/", "clv2-1")
	t.Logf("first GET / took %s", time.Since(began).Round(time.Millisecond))
	if status != http.StatusOK || !strings.Contains(body, "Home") {
		t.Errorf("GET / = %d %.300q, want 200 with the Home page", status, body)
	}
	invs := h.Gateway.For("clv2-1")
	if len(invs) != 1 || invs[0].Outcome != lambdahost.OutcomeOK {
		t.Errorf("invocations %+v, want one ok", invs)
	}
	if calls := api.CallsFor("clv2-1"); len(calls) != 2 || calls[1].Status != http.StatusAccepted {
		t.Errorf("Runtime API calls %+v, want GET next then POST response answered 202", calls)
	}
	if st := h.ExitStatus(); st != "" {
		t.Errorf("ExitStatus while running = %q", st)
	}
	running := runningOf(t, cli, "lambda-v2")
	if len(running) != 1 {
		t.Fatalf("running runtime containers %v, want one", running)
	}

	// The execution environment dies between invocations: the next one
	// gets a new container from the same image.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := cli.ContainerKill(ctx, running[0], client.ContainerKillOptions{Signal: "SIGKILL"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		if _, err := cli.ContainerInspect(ctx, running[0], client.ContainerInspectOptions{}); cerrdefs.IsNotFound(err) {
			break // the kit saw its end and removed it
		}
		if time.Now().After(deadline) {
			t.Fatalf("the killed runtime container %.12s was not removed", running[0])
		}
		time.Sleep(100 * time.Millisecond)
	}
	began = time.Now()
	status, body = getThrough(t, h, "/about", "clv2-2")
	t.Logf("GET after a cold start took %s", time.Since(began).Round(time.Millisecond))
	if status != http.StatusOK {
		t.Errorf("GET /about after the runtime died = %d %.300q", status, body)
	}
	if again := runningOf(t, cli, "lambda-v2"); len(again) != 1 || again[0] == running[0] {
		t.Errorf("running runtime containers %v after the cold start, want one new one", again)
	}
	if logs := h.Logs(); !strings.Contains(logs, "cold start") || !strings.Contains(logs, "killed") && !strings.Contains(logs, "status 137") {
		t.Errorf("logs %q do not tell of the restart", logs)
	}

	began = time.Now()
	if err := in.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
	t.Logf("Stop took %s", time.Since(began).Round(time.Millisecond))
	if left, err := container.OwnContainers(ctx); err != nil || len(left) > 0 {
		t.Errorf("containers left after Stop: %v (%v)", left, err)
	}
	if logs := h.Logs(); !strings.Contains(logs, "cold start") {
		t.Errorf("logs after Stop = %q", logs)
	}
	// Stop closes the gateway and the Runtime API: neither answers.
	if resp, err := http.Get(h.URL + "/"); err == nil {
		resp.Body.Close()
		t.Errorf("the gateway still answers after Stop (%d)", resp.StatusCode)
	}
	if host, _, _ := net.SplitHostPort(h.Runtime.Addr); net.ParseIP(host) != nil {
		// (An address through host.docker.internal is not dialled from here.)
		if c, err := net.DialTimeout("tcp", h.Runtime.Addr, time.Second); err == nil {
			c.Close()
			t.Errorf("the Runtime API at %s still accepts connections after Stop", h.Runtime.Addr)
		}
	}
	image, err := target.(imager).Image(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := target.(io.Closer).Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := cli.ImageInspect(ctx, image); !cerrdefs.IsNotFound(err) {
		t.Errorf("image %s is still there after Close (inspect error: %v)", image, err)
	}
}

// TestContainerLambdaShapes: the v1 and Function URL adapters run as
// container targets too, each behind the gateway of its shape.
func TestContainerLambdaShapes(t *testing.T) {
	cli := dockerClient(t)
	for _, c := range []struct {
		dir   string
		shape app.HostShape
	}{{"lambda-v1", app.ShapeLambdaV1}, {"function-url", app.ShapeFunctionURL}} {
		t.Run(c.dir, func(t *testing.T) {
			in := startTarget(t, containerTarget(t, cli, fixtureAdapter("good", "lambda", "cmd", c.dir)))
			h := in.Host(c.shape)
			if h == nil || h.StartError != nil {
				t.Fatalf("host of shape %s: %+v", c.shape, in.Hosts)
			}
			if status, body := getThrough(t, h, "/", c.dir+"-1"); status != http.StatusOK || !strings.Contains(body, "Home") {
				t.Errorf("GET / = %d %.300q", status, body)
			}
		})
	}
}

// TestContainerLambdaBroken: the broken-adapter image with a Lambda broken
// adapter. It describes itself with the Lambda shape, so the kit runs it
// against the Runtime API; but the broken-adapter main hands every broken
// adapter to contract.Main, which serves HTTP and has no lambda.Start, so
// the runtime exits without polling and the host's StartError says so.
func TestContainerLambdaBroken(t *testing.T) {
	cli := dockerClient(t)
	const bug = "b04-lambda-v2-cookies-in-headers"
	target := containerTarget(t, cli, fixtureAdapter("broken"), runner.WithName(bug),
		runner.WithEnv("BROKEN_ADAPTER="+bug), runner.WithReadinessTimeout(20*time.Second))
	began := time.Now()
	in := startTarget(t, target)
	if in.DescribeError != nil {
		t.Fatalf("describe: %v", in.DescribeError)
	}
	if a, ok := in.Declaration.Adapter(); !ok || a.Name != bug {
		t.Errorf("declaration %+v", in.Declaration)
	}
	h := in.Host(app.ShapeLambdaV2)
	if h == nil {
		t.Fatalf("no %s host: %+v", app.ShapeLambdaV2, in.Hosts)
	}
	// The broken adapter runs under lambda.Start like a good one; its bug
	// (cookies in headers) is for the suite to find, not a start failure.
	if h.StartError != nil {
		t.Fatalf("StartError: %v", h.StartError)
	}
	t.Logf("started in %s", time.Since(began).Round(time.Millisecond))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	began = time.Now()
	if err := in.Stop(ctx); err != nil {
		t.Errorf("Stop: %v", err)
	}
	t.Logf("Stop took %s", time.Since(began).Round(time.Millisecond))
	if left, err := container.OwnContainers(ctx); err != nil || len(left) > 0 {
		t.Errorf("containers left after Stop: %v (%v)", left, err)
	}
}
