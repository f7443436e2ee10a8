// Command two-lambda-shapes is a Lambda adapter that declares two host
// shapes, lambda-v2 and function-url (both carry payload v2 events), with
// one handler. The kit runs it as a function behind each gateway.
package main

import (
	"github.com/adapterconformance/adapter-conformance/app"
	goodlambda "github.com/adapterconformance/adapter-conformance/fixtures/adapters/good/lambda"
)

func main() {
	goodlambda.Main(app.Integration{Name: "two-lambda-shapes", Hooks: app.Hooks{ConfigDone: func(p app.ConfigDoneParams) error {
		p.SetAdapter(app.Adapter{
			Name:    "two-lambda-shapes",
			Exports: []string{"handler"},
			Shapes:  []app.HostShape{app.ShapeLambdaV2, app.ShapeFunctionURL},
			ServerEntrypoint: &app.ServerEntrypoint{CreateExports: func(m *app.Manifest) (map[string]any, error) {
				a, err := app.New(m)
				if err != nil {
					return nil, err
				}
				return map[string]any{"handler": goodlambda.HandlerV2(a)}, nil
			}},
		})
		return nil
	}}})
}
