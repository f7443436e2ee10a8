package realworld_test

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/realworld"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

// failure is a requirement a bridge fails, and the public evidence that the
// bridge, not the kit, is wrong: an issue, or the line of the bridge's own
// source (at the version in go.mod) that does it.
type failure struct {
	id, evidence string
}

// Sources, at the versions go.mod pins.
const (
	apiProxy  = "github.com/awslabs/aws-lambda-go-api-proxy@v0.16.2 "
	lambdaURL = "github.com/aws/aws-lambda-go@v1.55.1 "
)

// wantFailed is exactly what each bridge fails, in-process and as a binary
// under the Runtime API alike. Every entry is a bug of the bridge that its
// evidence shows. A kit change that fails a bridge for anything else, or
// stops failing it for one of these, breaks this test.
var wantFailed = map[string][]failure{
	// API Gateway REST (payload v1): passes everything that applies.
	realworld.HTTPAdapterV1.Name: nil,
	realworld.HTTPAdapterV2.Name: {
		{"LAMBDA-3", apiProxy + "core/requestv2.go:170-172 adds each cookies[] element as a Cookie header line of its own, so the App gets two Cookie lines (a=1 and b=2) instead of one `a=1; b=2` (RFC 6265 §5.4: one Cookie header; a Fetch Headers.get joins the lines with \", \", B08); the lines were added for awslabs/aws-lambda-go-api-proxy#108"},
		{"LAMBDA-10", apiProxy + "core/requestv2.go:125-136 routes on rawPath as it comes, stripping only a base path the user configured with StripBasePath, so a named stage's prefix (/prod/about) reaches the router and gives 404: awslabs/aws-lambda-go-api-proxy#130 (open: NewV2 404s with a stage in the path)"},
		{"LAMBDA-17", apiProxy + "core/requestv2.go:140-160 pastes the decoded rawPath into a URL string and parses it with http.NewRequest, so a literal % (from /blog/100%25) is an invalid URL escape, the event fails to convert (adapterv2.go:39-40) and the gateway answers 502; the rule it breaks is middleapi/standard-server#93 (escape what a decoded path holds literally)"},
	},
	realworld.LambdaURLStreaming.Name: {
		{"LAMBDA-3", lambdaURL + "lambdaurl/http_handler.go:122-124 copies only the event's headers into the request and never reads its cookies[], so cookies that are only in cookies[] never reach the App: aws/aws-lambda-go#597 (open; fix in PR #622)"},
	},
}

// kitBugs are failures of correct bridge behaviour that the kit reports
// today and that another change to the kit removes; they are tolerated,
// never expected, and logged. Delete an entry once its fix is on main.
var kitBugs = map[string][]failure{
	realworld.HTTPAdapterV2.Name: {
		{"HTTP-10", apiProxy + "core/responsev2.go:112 joins a repeated header with \",\" (`X-Multi: one,two`), which RFC 9110 §5.6.1 makes the same field value as `one, two` (aws-gateway-facts.md, Headers and cookies); the kit's list comparison is being changed to accept it"},
		{"RENDER-2", "the same comma-joined X-Multi and Vary as HTTP-10"},
	},
	realworld.LambdaURLStreaming.Name: {
		{"HTTP-10", lambdaURL + "lambdaurl/http_handler.go:150 joins a repeated header with \",\", the same field value as `one, two` (RFC 9110 §5.6.1); see the httpadapter-v2 entry"},
		{"RENDER-2", "the same comma-joined X-Multi and Vary as HTTP-10"},
	},
}

func ids(fs []failure) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.id)
	}
	return slices.Sorted(slices.Values(out))
}

func TestPublishedBridges(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the suite on each bridge, in-process and as a binary")
	}
	for _, b := range realworld.All {
		want, ok := wantFailed[b.Name]
		if !ok {
			t.Fatalf("bridge %s has no row in wantFailed", b.Name)
		}
		for _, mode := range []string{"inprocess", "binary"} {
			t.Run(b.Name+"/"+mode, func(t *testing.T) {
				var target runner.Target
				if mode == "inprocess" {
					target = runner.InProcess(b.Name, b.Integration(), runner.WithReadinessTimeout(time.Second))
				} else {
					// The bridge's own lambda.Start, under the kit's Runtime API.
					target = runner.Binary(filepath.Join("cmd", b.Name), runner.WithName(b.Name))
				}
				res, err := suite.Run(nil, target, suite.Quiet())
				if err != nil {
					t.Fatal(err)
				}
				if len(res.Passed()) == 0 {
					t.Fatal("nothing passed: the suite did not run")
				}
				tolerated := ids(kitBugs[b.Name])
				var got []string
				for _, id := range res.Failed() {
					if slices.Contains(tolerated, id) {
						t.Logf("%s fails %s, a kit bug awaiting its fix (see kitBugs)", b.Name, id)
						continue
					}
					got = append(got, id)
				}
				for _, id := range tolerated {
					if !slices.Contains(res.Failed(), id) {
						t.Logf("%s passes %s now: delete its kitBugs entry", b.Name, id)
					}
				}
				if wantIDs := ids(want); !slices.Equal(got, wantIDs) {
					t.Errorf("%s (%s)\nfailed %q\nwant   %q", b.Name, mode, got, wantIDs)
					for _, id := range got {
						if !slices.Contains(wantIDs, id) {
							for _, msg := range res.Messages(id) {
								t.Logf("unexpected failure of %s:\n%s", id, msg)
							}
						}
					}
				}
			})
		}
	}
}

// TestEveryExpectedFailureHasEvidence: an expected failure names its
// evidence, so that the list holds bugs, not whatever the kit reports.
func TestEveryExpectedFailureHasEvidence(t *testing.T) {
	for name, fs := range wantFailed {
		for _, f := range fs {
			if len(f.evidence) < 40 {
				t.Errorf("%s %s: no evidence (an issue or a file:line of the bridge)", name, f.id)
			}
		}
	}
}
