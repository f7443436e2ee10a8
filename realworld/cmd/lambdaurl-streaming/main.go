// Command lambdaurl-streaming is the published bridge realworld.LambdaURLStreaming as a Lambda
// bootstrap executable: contract.LambdaBridge answers --describe, loads the
// fixture app and hands the bridge's handler to lambda.Start.
package main

import "github.com/adapterconformance/adapter-conformance/realworld"

func main() { realworld.LambdaURLStreaming.Main() }
