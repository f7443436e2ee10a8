package suite

import (
	"sort"
	"strings"

	"github.com/onsi/ginkgo/v2"
	. "github.com/onsi/gomega"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/runner/contract"
)

// registerDeclaration checks the setAdapter declaration (DECL area) on the
// primary fixture.
func registerDeclaration(fx *fixtureEnv) {
	ginkgo.Describe("the setAdapter declaration", func() {
		fx.it("DECL-1", "the config-done hook calls SetAdapter exactly once", func(ctx ginkgo.SpecContext) {
			d := fx.declaration()
			Expect(d.HookRan).To(BeTrue(), fx.explainDecl("an integration with a config-done hook"))
			Expect(d.Calls).To(HaveLen(1), fx.explainDecl("exactly one SetAdapter call"))
		})
		fx.it("DECL-2", "the declared adapter has a name", func(ctx ginkgo.SpecContext) {
			a := fx.adapter()
			Expect(strings.TrimSpace(a.Name)).NotTo(BeEmpty(), fx.explainDecl("a non-empty Name"))
		})
		fx.it("DECL-3", "the server entrypoint provides CreateExports or Start", func(ctx ginkgo.SpecContext) {
			a := fx.adapter()
			ep := a.ServerEntrypoint
			Expect(ep).NotTo(BeNil(), fx.explainDecl("a ServerEntrypoint"))
			Expect(ep.CreateExports != nil || ep.Start != nil).To(BeTrue(), fx.explainDecl("CreateExports or Start, or both"))
		})
		fx.it("DECL-4", "export names are non-empty and unique", func(ctx ginkgo.SpecContext) {
			a := fx.adapter()
			seen := map[string]bool{}
			for _, name := range a.Exports {
				Expect(name).NotTo(BeEmpty(), fx.explainDecl("no empty export name"))
				Expect(seen[name]).To(BeFalse(), fx.explainDecl("export "+name+" declared once"))
				seen[name] = true
			}
		})
		fx.it("DECL-5", "the declared exports equal what CreateExports returns", func(ctx ginkgo.SpecContext) {
			a := fx.adapter()
			if a.ServerEntrypoint == nil || a.ServerEntrypoint.CreateExports == nil {
				skipNotApplicable("the adapter has no CreateExports")
			}
			if fx.inst.ExportsError != nil {
				ginkgo.Skip("cannot be checked: CreateExports failed (see DECL-6): " + fx.inst.ExportsError.Error())
			}
			declared := sortedUnique(a.Exports)
			var got []string
			for name := range fx.inst.Exports {
				got = append(got, name)
			}
			Expect(sortedUnique(got)).To(Equal(declared), fx.explainDecl("CreateExports to return exactly the declared exports "+strings.Join(declared, ", ")))
		})
		fx.it("DECL-7", "every declared host shape can be driven", func(ctx ginkgo.SpecContext) {
			a := fx.adapter()
			Expect(a.Shapes).NotTo(BeEmpty(), fx.explainDecl("at least one declared host shape"))
			for _, s := range a.Shapes {
				switch s {
				case app.ShapeStart:
					Expect(a.ServerEntrypoint != nil && a.ServerEntrypoint.Start != nil).To(BeTrue(), fx.explainDecl("Start, since the shape start is declared"))
				case app.ShapeHandler, app.ShapeFetch, app.ShapeLambdaV1, app.ShapeLambdaV2, app.ShapeFunctionURL:
					Expect(fx.inst.Host(s)).NotTo(BeNil(), fx.explainDecl("an export the kit drives as "+string(s)+", since that shape is declared; "+fx.declaredShapes()))
				default:
					ginkgo.Fail(fx.explainDecl("a known host shape, not " + string(s))())
				}
			}
		})
	})
	registerFixtureDeclaration(fx)
}

// registerFixtureDeclaration checks what depends on each fixture's config
// (DECL-6, DECL-8); it runs for every fixture.
func registerFixtureDeclaration(fx *fixtureEnv) {
	ginkgo.Describe("the declaration for fixture "+fx.name, func() {
		fx.it("DECL-8", "the config-done hook accepts the fixture's config", func(ctx ginkgo.SpecContext) {
			d := fx.declaration()
			Expect(d.HookError).NotTo(HaveOccurred(), fx.explainDecl("the hook to return nil for base "+quoteOrNone(fx.manifest.Base)+", trailingSlash "+string(fx.manifest.TrailingSlash)))
		})
		fx.it("DECL-6", "CreateExports succeeds for the fixture", func(ctx ginkgo.SpecContext) {
			a := fx.adapter()
			if a.ServerEntrypoint == nil || a.ServerEntrypoint.CreateExports == nil {
				skipNotApplicable("the adapter has no CreateExports")
			}
			Expect(fx.inst.ExportsError).NotTo(HaveOccurred(), fx.explainDecl("CreateExports to succeed for fixture "+fx.name))
			Expect(fx.inst.Exports).NotTo(BeNil(), fx.explainDecl("a non-nil exports map"))
		})
	})
}

// registerExports checks the exports contract as a whole (EXPORT-1).
func registerExports(fx *fixtureEnv) {
	ginkgo.Describe("the exports", func() {
		fx.it("EXPORT-1", "every export is non-nil and of a type the kit can drive", func(ctx ginkgo.SpecContext) {
			a := fx.adapter()
			if a.ServerEntrypoint == nil || a.ServerEntrypoint.CreateExports == nil {
				skipNotApplicable("the adapter has no CreateExports")
			}
			if fx.inst.ExportsError != nil {
				ginkgo.Skip("cannot be checked: CreateExports failed (see DECL-6)")
			}
			Expect(fx.inst.Unsupported).To(BeEmpty(), fx.explainDecl("every export to be an http.Handler, app.FetchFunc, app.MiddlewareFunc or a Lambda handler for a declared Lambda shape"))
		})
	})
}

// declaration is what the target declared. Out of process that is what
// --describe printed; when it printed nothing usable, the declaration specs
// cannot be checked (PROC-1 fails instead) rather than pass on an empty
// declaration, or fail as if SetAdapter had not been called.
func (fx *fixtureEnv) declaration() *contract.Declaration {
	if fx.inst == nil {
		ginkgo.Fail("the target could not be started: " + errString(fx.startErr))
	}
	if fx.inst.DescribeError != nil {
		why, _, _ := strings.Cut(fx.inst.DescribeError.Error(), "\n")
		ginkgo.Skip("cannot be checked: follows from PROC-1, the adapter did not describe itself: " + why)
	}
	return &fx.inst.Declaration
}

// adapter returns the declared adapter, skipping (not passing) the spec when
// there is none: DECL-1 reports that.
func (fx *fixtureEnv) adapter() app.Adapter {
	a, ok := fx.declaration().Adapter()
	if !ok {
		ginkgo.Skip("cannot be checked: SetAdapter was never called (see DECL-1)")
	}
	return a
}

func (fx *fixtureEnv) explainDecl(expected string) func() string {
	return func() string {
		var b strings.Builder
		b.WriteString(explain(expected)())
		if fx.startErr != nil {
			b.WriteString("starting the target failed: " + fx.startErr.Error() + "\n")
		}
		if fx.inst == nil {
			return b.String()
		}
		d := fx.inst.Declaration
		if fx.inst.DescribeError != nil {
			b.WriteString("the adapter did not describe itself: " + fx.inst.DescribeError.Error() + "\n")
		}
		b.WriteString("what the config-done hook did:\n")
		if !d.HookRan {
			b.WriteString("  the integration has no config-done hook\n")
		}
		for i, c := range d.Calls {
			ep := "no server entrypoint"
			if c.ServerEntrypoint != nil {
				var parts []string
				if c.ServerEntrypoint.CreateExports != nil {
					parts = append(parts, "CreateExports")
				}
				if c.ServerEntrypoint.Start != nil {
					parts = append(parts, "Start")
				}
				ep = "entrypoint with " + strings.Join(parts, " and ")
				if len(parts) == 0 {
					ep = "entrypoint with neither CreateExports nor Start"
				}
			}
			b.WriteString("  SetAdapter call " + itoa(i+1) + ": name " + quoteOrNone(c.Name) + ", exports [" + strings.Join(c.Exports, ", ") + "], shapes " + shapesString(c.Shapes) + ", " + ep + "\n")
		}
		if len(d.Calls) == 0 {
			b.WriteString("  SetAdapter was not called\n")
		}
		if d.HookError != nil {
			b.WriteString("  the hook returned: " + d.HookError.Error() + "\n")
		}
		if fx.inst.ExportsError != nil {
			b.WriteString("  CreateExports failed: " + fx.inst.ExportsError.Error() + "\n")
		} else if fx.inst.Exports != nil {
			var names []string
			for n := range fx.inst.Exports {
				names = append(names, n)
			}
			sort.Strings(names)
			b.WriteString("  CreateExports returned [" + strings.Join(names, ", ") + "]\n")
		}
		for name, why := range fx.inst.Unsupported {
			b.WriteString("  export " + name + ": " + why + "\n")
		}
		return b.String()
	}
}

func sortedUnique(in []string) []string {
	set := map[string]bool{}
	for _, s := range in {
		set[s] = true
	}
	out := make([]string, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

func shapesString(s []app.HostShape) string {
	parts := make([]string, len(s))
	for i, x := range s {
		parts[i] = string(x)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func quoteOrNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return `"` + s + `"`
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}
