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
		{id: "LAMBDA-3", evidence: apiProxy + "core/requestv2.go:170-172 adds each cookies[] element as a Cookie header line of its own, so the App gets two Cookie lines (a=1 and b=2) instead of one `a=1; b=2` (RFC 6265 §5.4: one Cookie header; a Fetch Headers.get joins the lines with \", \", B08); the lines were added for awslabs/aws-lambda-go-api-proxy#108"},
		{id: "DIFF-2", evidence: apiProxy + "core/requestv2.go:180-184 splits every request header outside its singleton list at each comma (LAMBDA-4's bug): the corpus's value with commas (`X-Date: Wed, 21 Oct 2037 07:28:00 GMT`) reaches the App as two values, in the basic fixture and under the base alike, in-process and as a binary (the differential corpus runs in every mode)"},
		{id: "LAMBDA-4", evidence: apiProxy + "core/requestv2.go:180-184 splits every request header outside its singleton list (requestv2.go:255-) at each comma, so a Date-like value (`X-Date: Wed, 21 Oct 2037 07:28:00 GMT`) reaches the App as two values; a comma-joined field cannot be split back safely (aws-gateway-facts.md, Headers and cookies)"},
		{id: "LAMBDA-21", evidence: apiProxy + "core/requestv2.go:125-136 routes on rawPath as it comes, stripping only a base path the user configured with StripBasePath, so a named stage's prefix (/prod/about) reaches the router and gives 404: awslabs/aws-lambda-go-api-proxy#130 (open: NewV2 404s with a stage in the path); a SHOULD, since stripping is the user's choice in published bridges"},
		{id: "LAMBDA-17", evidence: apiProxy + "core/requestv2.go:140-160 pastes the decoded rawPath into a URL string and parses it with http.NewRequest, so a literal % (from /blog/100%25) is an invalid URL escape, the event fails to convert (adapterv2.go:39-40) and the gateway answers 502; the rule it breaks is middleapi/standard-server#93 (escape what a decoded path holds literally)"},
	},
	// lambdaurl reads cookies from the cookie header only and never from
	// cookies[] (http_handler.go:122-124; aws/aws-lambda-go#597). A Function
	// URL keeps the cookie header beside cookies[] (aws-gateway-facts.md:
	// the voker capture; the maintainers could not reproduce #597), so on
	// AWS every cookie still arrives: not a failure the kit may report.
	realworld.LambdaURLStreaming.Name: nil,
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
				got := res.Failed()
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
