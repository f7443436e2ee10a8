// Command httpadapter-v1 is the published bridge realworld.HTTPAdapterV1 as a Lambda
// bootstrap executable: contract.LambdaBridge answers --describe, loads the
// fixture app and hands the bridge's handler to lambda.Start.
package main

import "github.com/adapterconformance/adapter-conformance/realworld"

func main() { realworld.HTTPAdapterV1.Main() }
