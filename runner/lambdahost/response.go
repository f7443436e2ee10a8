package lambdahost

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"

	"github.com/adapterconformance/adapter-conformance/app"
)

// them from an envelope.
var framingHeaders = map[string]bool{"Content-Length": true, "Transfer-Encoding": true, "Connection": true}

// TranslateResponse turns a function's raw result into the HTTP
// response the gateway of the shape sends, or says why the gateway rejects
// it (problem non-empty: a 502).
//
// Payload v1 (REST): the result must be a JSON object with only statusCode,
// headers, multiValueHeaders, body and isBase64Encoded, each of its type;
// anything else is a malformed proxy response (B05). headers and
// multiValueHeaders are merged into one list per name, a value in both once.
//
// Payload v2 and Function URLs: cookies[] each become a Set-Cookie line;
// headers are single-valued; multiValueHeaders is ignored (B04, B10). A
// result that is not an object with a statusCode is the body of a 200
// application/json response.
func TranslateResponse(shape app.HostShape, raw []byte) (status int, header http.Header, body []byte, problem string) {
	var fields map[string]json.RawMessage
	isObject := json.Unmarshal(raw, &fields) == nil && fields != nil
	header = http.Header{}
	if shape != app.ShapeLambdaV1 {
		if _, has := fields["statusCode"]; !isObject || !has {
			header.Set("Content-Type", "application/json")
			return http.StatusOK, header, raw, ""
		}
	} else if !isObject {
		return 0, nil, nil, "the result is not a JSON object"
	}
	allowed := map[string]bool{"statusCode": true, "headers": true, "body": true, "isBase64Encoded": true, "multiValueHeaders": true}
	if shape != app.ShapeLambdaV1 {
		allowed["cookies"] = true
	}
	names := make([]string, 0, len(fields))
	for k := range fields {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		if !allowed[k] && shape == app.ShapeLambdaV1 {
			return 0, nil, nil, fmt.Sprintf("field %q is not part of a payload v1 response (statusCode, headers, multiValueHeaders, body, isBase64Encoded)", k)
		}
	}
	isNull := func(k string) bool { v, ok := fields[k]; return !ok || string(v) == "null" }

	var n int
	if isNull("statusCode") || json.Unmarshal(fields["statusCode"], &n) != nil {
		return 0, nil, nil, fmt.Sprintf("statusCode must be an integer, got %s", orMissing(fields["statusCode"]))
	}
	if n < 200 || n > 599 {
		return 0, nil, nil, fmt.Sprintf("statusCode must be an integer from 200 to 599, got %d", n)
	}
	var single map[string]string
	if !isNull("headers") && json.Unmarshal(fields["headers"], &single) != nil {
		return 0, nil, nil, fmt.Sprintf("headers must map names to strings, got %.200s", fields["headers"])
	}
	var multi map[string][]string
	if shape == app.ShapeLambdaV1 && !isNull("multiValueHeaders") && json.Unmarshal(fields["multiValueHeaders"], &multi) != nil {
		return 0, nil, nil, fmt.Sprintf("multiValueHeaders must map names to arrays of strings, got %.200s", fields["multiValueHeaders"])
	}
	var cookies []string
	if shape != app.ShapeLambdaV1 && !isNull("cookies") && json.Unmarshal(fields["cookies"], &cookies) != nil {
		return 0, nil, nil, fmt.Sprintf("cookies must be an array of strings, got %.200s", fields["cookies"])
	}
	var text string
	if !isNull("body") && json.Unmarshal(fields["body"], &text) != nil {
		return 0, nil, nil, fmt.Sprintf("body must be a string, got %.200s", fields["body"])
	}
	var b64 bool
	if !isNull("isBase64Encoded") && json.Unmarshal(fields["isBase64Encoded"], &b64) != nil {
		return 0, nil, nil, fmt.Sprintf("isBase64Encoded must be a boolean, got %.200s", fields["isBase64Encoded"])
	}
	body = []byte(text)
	if b64 {
		var err error
		if body, err = base64.StdEncoding.DecodeString(text); err != nil {
			return 0, nil, nil, "isBase64Encoded is true but the body is not base64: " + err.Error()
		}
	}
	for _, k := range sortedKeys(multi) {
		ck := http.CanonicalHeaderKey(k)
		if !framingHeaders[ck] {
			header[ck] = append(header[ck], multi[k]...)
		}
	}
	for _, k := range sortedKeys(single) {
		ck := http.CanonicalHeaderKey(k)
		if framingHeaders[ck] {
			continue
		}
		if shape == app.ShapeLambdaV1 && hasCanonical(multi, ck) {
			// REST merges headers into multiValueHeaders' list; a pair in
			// both appears once (aws-gateway-facts.md: AWS's REST Lambda
			// proxy output-format docs).
			if !slices.Contains(header[ck], single[k]) {
				header[ck] = append(header[ck], single[k])
			}
			continue
		}
		header.Set(ck, single[k])
	}
	for _, c := range cookies {
		header.Add("Set-Cookie", c)
	}
	return n, header, body, ""
}

func hasCanonical[V any](m map[string]V, ck string) bool {
	for k := range m {
		if http.CanonicalHeaderKey(k) == ck {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func orMissing(raw json.RawMessage) string {
	if raw == nil {
		return "nothing (the field is missing)"
	}
	return string(raw)
}
