package suite_test

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/broken"
	"github.com/adapterconformance/adapter-conformance/runner"
	"github.com/adapterconformance/adapter-conformance/suite"
)

func TestBrokenAdaptersProbe(t *testing.T) {
	if os.Getenv("PROBE") == "" {
		t.Skip()
	}
	for _, b := range broken.All() {
		if n := os.Getenv("PROBE_NAME"); n != "" && n != b.Name {
			continue
		}
		res, err := suite.Run(nil, runner.InProcess(b.Name, b.Integration, runner.WithReadinessTimeout(time.Second)), suite.Quiet())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%q: {%s},\n", b.Name, `"`+strings.Join(res.Failed(), `", "`)+`"`)
		_ = slices.Contains[[]string]
	}
}
