package suite

import (
	"os"
	"strings"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"
)

// registerProcess checks the process contract of binary and container
// targets (PROC area). It runs on the start host before the shutdown specs.
func registerProcess(h *hostEnv) {
	ginkgo.Describe("the process contract", func() {
		h.fx.it("PROC-1", "--describe prints the declaration as JSON", func(ctx ginkgo.SpecContext) {
			inst := h.fx.inst
			if inst == nil {
				ginkgo.Fail(explain("a JSON description from --describe")() + "the target could not be started: " + errString(h.fx.startErr))
			}
			Expect(inst.DescribeError).NotTo(HaveOccurred(), explain("a JSON description from --describe"))
			Expect(inst.Description).NotTo(BeNil(), explain("a JSON description from --describe"))
		})
		h.it("PROC-2", "the process serves the app named by ADAPTER_CONFORMANCE_APP", func(ctx ginkgo.SpecContext) {
			h.expectOwnManifest(ctx)
		})
		h.it("PROC-6", "the process keeps running until SIGTERM", func(ctx ginkgo.SpecContext) {
			Expect(h.host.ExitStatus).NotTo(BeNil(), "the host does not run as a process")
			Expect(h.host.ExitStatus()).To(BeEmpty(), explain("the adapter process still running after the suite's requests"))
		}, judgesExit)
		h.it("PROC-7", "the process writes nothing into its working directory", func(ctx ginkgo.SpecContext) {
			if h.host.WorkDir == "" {
				skipNotApplicable("the kit cannot see this target's working directory")
			}
			entries, err := os.ReadDir(h.host.WorkDir)
			Expect(err).NotTo(HaveOccurred())
			var names []string
			for _, e := range entries {
				names = append(names, e.Name())
			}
			Expect(names).To(BeEmpty(), explain("an untouched working directory; found "+strings.Join(names, ", ")))
		})
	})
}
