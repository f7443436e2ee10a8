package adapterconformance_test

import (
	"os/exec"
	"regexp"
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
	for _, line := range lines {
		pkg, deps, _ := strings.Cut(line, " ")
		var engine []string
		for _, dep := range strings.Fields(deps) {
			if containerEnginePackage.MatchString(dep) {
				engine = append(engine, dep)
			}
		}
		if len(engine) > 0 {
			t.Errorf("%s links %d container-engine packages, among them %s; find the import that brings them with: go list -deps %s",
				pkg, len(engine), strings.Join(engine[:min(len(engine), 3)], ", "), pkg)
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
