package contract_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/adapterconformance/adapter-conformance/fixtures"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/broken"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/fetch"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/handler"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/lambda"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/middleware"
	"github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/standalone"
	"github.com/adapterconformance/adapter-conformance/runner/contract"
)

// describeSchema compiles describe.schema.json, which specifies the
// --describe output for adapters written without contract.Main.
func describeSchema(t *testing.T) *jsonschema.Schema {
	t.Helper()
	f, err := os.Open("describe.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		t.Fatalf("describe.schema.json is not JSON: %v", err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("describe.schema.json", doc); err != nil {
		t.Fatal(err)
	}
	s, err := c.Compile("describe.schema.json")
	if err != nil {
		t.Fatalf("describe.schema.json is not a valid JSON Schema: %v", err)
	}
	return s
}

func validate(s *jsonschema.Schema, out string) error {
	v, err := jsonschema.UnmarshalJSON(strings.NewReader(out))
	if err != nil {
		return err
	}
	return s.Validate(v)
}

// TestDescribeOutputMatchesTheSchema: what contract.Main prints for every
// kind of declaration (good adapters of each shape, no SetAdapter call, two
// calls, a failing hook, an export the kit cannot drive, a failing
// CreateExports, no app directory) is valid against the schema, so the
// schema says exactly what the kit's own helper does.
func TestDescribeOutputMatchesTheSchema(t *testing.T) {
	s := describeSchema(t)
	integrations := map[string]app.Integration{
		"standalone": standalone.Integration(), "handler": handler.Integration(), "fetch": fetch.Integration(),
		"middleware": middleware.Integration(), "lambda-v1": lambda.IntegrationV1(), "lambda-v2": lambda.IntegrationV2(),
		"function-url": lambda.IntegrationFunctionURL(),
	}
	for _, b := range broken.All() {
		switch b.Name {
		case "setadapter-never", "setadapter-twice", "empty-name", "no-entrypoint", "duplicate-exports",
			"exports-mismatch", "exports-fail-with-base", "hook-rejects-never", "export-wrong-type":
			integrations[b.Name] = b.Integration
		}
	}
	if len(integrations) != 16 {
		t.Fatalf("%d integrations: a broken adapter was renamed", len(integrations))
	}
	apps := t.TempDir()
	for _, name := range []string{"basic", "base-app", "trailing-never"} {
		if err := fixtures.Export(name, filepath.Join(apps, name)); err != nil {
			t.Fatal(err)
		}
	}
	for name, integration := range integrations {
		for _, dir := range []string{filepath.Join(apps, "basic"), filepath.Join(apps, "base-app"), filepath.Join(apps, "trailing-never"), ""} {
			t.Setenv(contract.EnvApp, dir)
			var out, errOut bytes.Buffer
			if code := contract.Run(integration, []string{contract.DescribeFlag}, &out, &errOut); code != 0 {
				t.Fatalf("%s: exit %d: %s", name, code, errOut.String())
			}
			if err := validate(s, out.String()); err != nil {
				t.Errorf("%s with app %q: the --describe output does not match describe.schema.json: %v\n%s", name, dir, err, out.String())
			}
		}
	}
}

// TestDescribeSchemaExample: the example the kit shows (README, PROC-1's
// failure message) is valid, and what SPEC.md used to describe, a bare
// declaration, is not.
func TestDescribeSchemaExample(t *testing.T) {
	s := describeSchema(t)
	if err := validate(s, contract.ExampleDescription); err != nil {
		t.Errorf("ExampleDescription does not match the schema: %v", err)
	}
	for _, bad := range []string{
		`{"name":"my-adapter","shapes":["start"]}`,
		`{"contract":2,"hookRan":true,"setAdapterCalls":[]}`,
		`{"contract":1,"hookRan":true,"setAdapterCalls":[{"shapes":["start"]}]}`,
		`{"contract":1,"hookRan":true,"setAdapterCalls":[{"name":"x","shape":["start"]}]}`,
	} {
		if validate(s, bad) == nil {
			t.Errorf("the schema accepts %s", bad)
		}
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(readme, []byte(contract.ExampleDescription)) || !bytes.Contains(readme, []byte(contract.SchemaFile)) {
		t.Errorf("README.md does not show contract.ExampleDescription and name %s", contract.SchemaFile)
	}
}
