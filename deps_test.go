package adapterconformance_test

import (
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// containerEnginePackage matches the packages of a container engine client:
// testcontainers-go and the Docker/moby/containerd libraries it brings.
var containerEnginePackage = regexp.MustCompile(`(^|/)(testcontainers[^/]*|docker[^/]*|moby|containerd)(/|$)`)

// TestAdaptersLinkNoContainerEngine: an adapter links the kit's app and
// process contract, never its container machinery (issue 17). Every main
// package under fixtures/adapters (the good adapters' binaries and Lambda
// bootstrap executables, the broken-adapter binary) and runner/contract,
// which adapters import to declare themselves, must have no testcontainers,
// Docker, moby or containerd package among their dependencies. Before
// app.HostShape.IsLambda, the broken-adapter binary linked all of them
// through runner.IsLambdaShape.
func TestAdaptersLinkNoContainerEngine(t *testing.T) {
	mains := goList(t, "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{end}}`, "./fixtures/adapters/...")
	if len(mains) < 2 {
		t.Fatalf("go list found %d adapter main packages under fixtures/adapters, want every good adapter's and broken-adapter", len(mains))
	}
	pkgs := append(mains, "github.com/adapterconformance/adapter-conformance/runner/contract")
	lines := goList(t, append([]string{"-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`}, pkgs...)...)
	if len(lines) != len(pkgs) {
		t.Fatalf("go list answered for %d packages, asked about %d", len(lines), len(pkgs))
	}
	expectNoContainerEngine(t, lines, "")
}

// TestInProcessSuiteUsersLinkNoContainerEngine: a user who runs the suite
// against an in-process target (suite.Test or suite.Register in their own
// go test) links suite, runner and reports, and none of the container
// machinery, which only runner/container brings (issue 17 item 3). The
// example test binaries under suite/examples are such users, each linked
// as go test links it (its -test dependencies). Before runner/container,
// every one of these linked 54 testcontainers, Docker, moby and containerd
// packages through runner.
func TestInProcessSuiteUsersLinkNoContainerEngine(t *testing.T) {
	const module = "github.com/adapterconformance/adapter-conformance"
	libs := []string{module + "/suite", module + "/runner", module + "/reports"}
	lines := goList(t, append([]string{"-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`}, libs...)...)
	if len(lines) != len(libs) {
		t.Fatalf("go list answered for %d packages, asked about %d", len(lines), len(libs))
	}
	expectNoContainerEngine(t, lines, "")
	// With -test, go list also lists each example's test binary, a main
	// package named after it with .test: what go test links.
	binaries := goList(t, "-test", "-f", `{{if eq .Name "main"}}{{.ImportPath}}{{range .Deps}} {{.}}{{end}}{{end}}`, "./suite/examples/...")
	if len(binaries) < 3 {
		t.Fatalf("go list found %d example test binaries under suite/examples, want the standalonetest, coexist and embedded ones", len(binaries))
	}
	expectNoContainerEngine(t, binaries, "-test ")
}

// TestLambdaHostDepsAreAppOnly: runner/lambdahost, the emulated Lambda
// hosts (gateway, event codec, invoker, Runtime API), depends on app, the
// standard library and aws-lambda-go only (issue 17 item 1): no other
// package of this module (so never runner, which imports it), and no
// container engine. It can then be read, tested and reused without the
// rest of the kit, and a Lambda-only user of it links nothing else.
func TestLambdaHostDepsAreAppOnly(t *testing.T) {
	const module = "github.com/adapterconformance/adapter-conformance"
	const pkg = module + "/runner/lambdahost"
	lines := goList(t, "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, pkg)
	if len(lines) != 1 {
		t.Fatalf("go list answered %d lines for %s, want 1", len(lines), pkg)
	}
	expectNoContainerEngine(t, lines, "")
	_, deps, _ := strings.Cut(lines[0], " ")
	var own []string
	for _, dep := range strings.Fields(deps) {
		if (dep == module || strings.HasPrefix(dep, module+"/")) && dep != module+"/app" {
			own = append(own, dep)
		}
	}
	if len(own) > 0 {
		t.Errorf("%s depends on %s of this module; it may depend on app only (find the import with: go list -deps %s)", pkg, strings.Join(own, ", "), pkg)
	}
	// The allowed dependencies outside the standard library.
	for _, dep := range strings.Fields(deps) {
		first, _, _ := strings.Cut(dep, "/")
		if strings.Contains(first, ".") && !strings.HasPrefix(dep, module+"/") && !strings.HasPrefix(dep, "github.com/aws/aws-lambda-go/") {
			t.Errorf("%s depends on %s: it may depend on app, the standard library and aws-lambda-go only", pkg, dep)
		}
	}
}

// expectNoContainerEngine fails for each line of go list output (a package
// and its dependencies, space separated) whose dependencies include a
// container-engine package; listFlags are go list's flags that reproduce
// the list in the failure message.
func expectNoContainerEngine(t *testing.T, lines []string, listFlags string) {
	t.Helper()
	for _, line := range lines {
		pkg, deps, _ := strings.Cut(line, " ")
		var engine []string
		for _, dep := range strings.Fields(deps) {
			if containerEnginePackage.MatchString(dep) {
				engine = append(engine, dep)
			}
		}
		if len(engine) > 0 {
			t.Errorf("%s links %d container-engine packages, among them %s; find the import that brings them with: go list %s-deps %s",
				pkg, len(engine), strings.Join(engine[:min(len(engine), 3)], ", "), listFlags, strings.TrimSuffix(pkg, ".test"))
		}
	}
}

// goList runs go list with args in the module root and returns its
// non-empty output lines.
func goList(t *testing.T, args ...string) []string {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list"}, args...)...)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("go list %s: %v\n%s", strings.Join(args, " "), err, stderr)
	}
	var lines []string
	for _, l := range strings.Split(string(out), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, l)
		}
	}
	return lines
}

// TestRunnerSubpackagesDepsPointDown: the packages split out of runner
// (issue 17: building and describing an executable, the ownership and
// cleanup of what a run starts) are imported by runner and never import
// it, nor anything above it, nor a container engine: runner/ownership
// depends on the standard library only, runner/executable on app,
// runner/contract and runner/ownership (and what they bring, aws-lambda-go)
// besides.
func TestRunnerSubpackagesDepsPointDown(t *testing.T) {
	const module = "github.com/adapterconformance/adapter-conformance"
	allowed := map[string][]string{
		module + "/runner/ownership":  nil,
		module + "/runner/executable": {module + "/app", module + "/runner/contract", module + "/runner/ownership"},
	}
	for pkg, own := range allowed {
		lines := goList(t, "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, pkg)
		if len(lines) != 1 {
			t.Fatalf("go list answered %d lines for %s, want 1", len(lines), pkg)
		}
		expectNoContainerEngine(t, lines, "")
		_, deps, _ := strings.Cut(lines[0], " ")
		for _, dep := range strings.Fields(deps) {
			first, _, _ := strings.Cut(dep, "/")
			switch {
			case dep == module || strings.HasPrefix(dep, module+"/"):
				if !slices.Contains(own, dep) {
					t.Errorf("%s depends on %s; of this module it may depend on %v only (find the import with: go list -deps %s)", pkg, dep, own, pkg)
				}
			case strings.Contains(first, ".") && len(own) == 0:
				t.Errorf("%s depends on %s: it may depend on the standard library only", pkg, dep)
			}
		}
	}
}
