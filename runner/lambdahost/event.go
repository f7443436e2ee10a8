package lambdahost

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/adapterconformance/adapter-conformance/app"
	"github.com/aws/aws-lambda-go/events"
)

// EventOptions shape the event the gateway builds for a request.
type EventOptions struct {
	// Stage is the API stage. On an HTTP API (lambda-v2), "" or DefaultStage
	// adds no path prefix and any other stage is prefixed to rawPath (B47;
	// aws-gateway-facts.md: aws-lambda-rust-runtime#668). A REST API
	// (lambda-v1) always has a named stage ("" is DefaultRESTStage); on its
	// execute-api host the stage is in requestContext.path only, never in
	// path (aws-gateway-facts.md: localstack's AWS-validated snapshot, the
	// voker capture). Function URLs have no stage and ignore it.
	Stage string
	// CustomDomain, for REST (lambda-v1) events, sends the event as a custom
	// domain with a base-path mapping does: domainName is CustomDomain, path
	// is BasePath followed by the request path, and requestContext.path
	// equals path (aws-gateway-facts.md: GREsau's gist). Other shapes ignore
	// both.
	CustomDomain string
	// BasePath is the base-path mapping of CustomDomain (lambda-v1 only).
	BasePath string
	// SourceIP is the caller's address the gateway reports; by default the
	// request's peer address.
	SourceIP string
	// Proto is the scheme the gateway reports in X-Forwarded-Proto, which
	// every gateway sets itself, replacing the client's. By default the
	// emulator reports "https", as AWS does (its endpoints are HTTPS only;
	// voker capture), although it listens on plain HTTP: an adapter that
	// takes the scheme for granted as https is right on AWS and must not
	// fail here. X-Forwarded-Port is the Host's port, or the scheme's
	// default.
	Proto string
	// Edit, when set, changes the event (as decoded JSON) before it is sent,
	// for events no HTTP request produces (cookies[] next to a cookie header).
	Edit func(event map[string]any)
}

// BuildEvent turns an HTTP request into the JSON event the gateway of
// the shape sends, as aws-gateway-facts.md records AWS doing it (each rule
// below names its source there):
//   - REST (lambda-v1): path still encoded and without the stage, its
//     leading slashes collapsed to one; requestContext.path is
//     /{stage} followed by the path as sent; pathParameters.proxy encoded,
//     without a trailing slash (localstack snapshot, voker capture). On a
//     custom domain, path and requestContext.path are both the base-path
//     mapping followed by the path (GREsau's gist).
//   - HTTP API (lambda-v2): rawPath and requestContext.http.path
//     percent-decoded (voker capture), prefixed with a named stage
//     (aws-lambda-rust-runtime#668).
//   - Function URL: rawPath as sent, requestContext.http.path decoded; the
//     cookie header kept in headers beside cookies[] (voker capture).
//   - Query parameters decoded, "+" as a space, empty values kept, repeated
//     keys joined with "," (v2) or last-value-wins beside the multi-value map
//     (v1); rawQueryString as sent (voker, localstack).
//   - Repeated request headers joined with a plain "," (v2, Function URL),
//     or last-value-wins beside multiValueHeaders (v1) (voker).
func BuildEvent(shape app.HostShape, r *http.Request, body []byte, requestID string, o EventOptions) ([]byte, error) {
	uri := r.RequestURI
	if uri == "" {
		uri = r.URL.RequestURI()
	}
	if !strings.HasPrefix(uri, "/") {
		return nil, fmt.Errorf("the gateway only takes origin-form request targets, not %q", uri)
	}
	rawPath, rawQuery, _ := strings.Cut(uri, "?")
	decodedPath := rawPath
	if p, err := url.PathUnescape(rawPath); err == nil {
		decodedPath = p
	}
	stage := o.Stage
	switch {
	case stage == "" && shape == app.ShapeLambdaV1:
		stage = DefaultRESTStage
	case stage == "":
		stage = DefaultStage
	}
	stagePrefix := ""
	if stage != DefaultStage {
		stagePrefix = "/" + stage
	}
	sourceIP := o.SourceIP
	if sourceIP == "" {
		sourceIP = r.RemoteAddr
		if h, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
			sourceIP = h
		}
	}
	bodyField, isBase64 := EncodeBody(r.Header.Get("Content-Type"), body)
	now := time.Now()
	host := r.Host
	prefix, _, _ := strings.Cut(host, ".")
	userAgent := r.Header.Get("User-Agent")
	// The gateway terminates the client's connection and says how it came:
	// X-Forwarded-Proto and X-Forwarded-Port replace the client's own.
	proto := o.Proto
	if proto == "" {
		proto = "https"
	}
	port := "80"
	if proto == "https" {
		port = "443"
	}
	if _, p, err := net.SplitHostPort(host); err == nil && p != "" {
		port = p
	}
	// The gateway is the client's peer: it appends it to X-Forwarded-For.
	xff := sourceIP
	if prev := r.Header.Values("X-Forwarded-For"); len(prev) > 0 {
		xff = strings.Join(prev, ", ") + ", " + sourceIP
	}

	var ev any
	switch shape {
	case app.ShapeLambdaV1:
		headers := map[string]string{}
		multi := map[string][]string{}
		for k, vs := range r.Header {
			if k == "X-Forwarded-For" || k == "X-Forwarded-Proto" || k == "X-Forwarded-Port" {
				continue
			}
			headers[k] = vs[len(vs)-1]
			multi[k] = append([]string(nil), vs...)
		}
		headers["Host"], multi["Host"] = host, []string{host}
		headers["X-Forwarded-For"], multi["X-Forwarded-For"] = xff, []string{xff}
		headers["X-Forwarded-Proto"], multi["X-Forwarded-Proto"] = proto, []string{proto}
		headers["X-Forwarded-Port"], multi["X-Forwarded-Port"] = port, []string{port}
		var single map[string]string
		mq := queryPairs(rawQuery)
		var multiQ map[string][]string
		if len(mq.keys) > 0 {
			single, multiQ = map[string]string{}, map[string][]string{}
			for _, k := range mq.keys {
				vs := mq.values[k]
				single[k] = vs[len(vs)-1]
				multiQ[k] = vs
			}
		}
		// A leading "//" collapses in path but stays in requestContext.path;
		// one inside the path is kept (localstack snapshot).
		path := "/" + strings.TrimLeft(rawPath, "/")
		contextPath := stagePrefix + rawPath
		domain := host
		if o.CustomDomain != "" {
			domain = o.CustomDomain
			prefix, _, _ = strings.Cut(domain, ".")
			path = o.BasePath + path
			contextPath = path
		}
		var pathParams map[string]string
		if p := strings.TrimSuffix(strings.TrimPrefix(path, "/"), "/"); p != "" {
			pathParams = map[string]string{"proxy": p}
		}
		ev = restEvent{APIGatewayProxyRequest: events.APIGatewayProxyRequest{
			Resource: "/{proxy+}", Path: path, HTTPMethod: r.Method,
			Headers: headers, MultiValueHeaders: multi,
			QueryStringParameters: single, MultiValueQueryStringParameters: multiQ,
			PathParameters: pathParams,
			RequestContext: events.APIGatewayProxyRequestContext{
				AccountID: accountID, ResourceID: "proxy", Stage: stage,
				DomainName: domain, DomainPrefix: prefix, RequestID: requestID, Protocol: r.Proto,
				Identity:     events.APIGatewayRequestIdentity{SourceIP: sourceIP, UserAgent: userAgent},
				ResourcePath: "/{proxy+}", Path: contextPath, HTTPMethod: r.Method,
				RequestTime: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), RequestTimeEpoch: now.UnixMilli(),
				APIID: apiID,
			},
			IsBase64Encoded: isBase64,
		}}
	case app.ShapeLambdaV2, app.ShapeFunctionURL:
		headers := map[string]string{}
		var cookies []string
		for k, vs := range r.Header {
			switch k {
			case "Cookie":
				// The Cookie header is split into cookies[], one element a
				// cookie. An HTTP API drops the header; a Function URL keeps
				// it too (voker capture). How several Cookie lines are
				// joined is unproven: "; ", as a cookie-string is.
				for _, v := range vs {
					for c := range strings.SplitSeq(v, ";") {
						if c = strings.TrimSpace(c); c != "" {
							cookies = append(cookies, c)
						}
					}
				}
				if shape == app.ShapeFunctionURL {
					headers["cookie"] = strings.Join(vs, "; ")
				}
				continue
			case "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Port":
				continue
			}
			// Lowercase names; duplicates joined with a comma (B11).
			headers[strings.ToLower(k)] = strings.Join(vs, ",")
		}
		headers["host"] = host
		headers["x-forwarded-for"] = xff
		headers["x-forwarded-proto"] = proto
		headers["x-forwarded-port"] = port
		var params map[string]string
		if q := queryPairs(rawQuery); len(q.keys) > 0 {
			params = map[string]string{}
			for _, k := range q.keys {
				params[k] = strings.Join(q.values[k], ",")
			}
		}
		// Both shapes give requestContext.http.path decoded; an HTTP API
		// decodes rawPath too, and prefixes a named stage to both.
		httpDesc := struct{ Method, Path, Protocol, SourceIP, UserAgent string }{r.Method, decodedPath, r.Proto, sourceIP, userAgent}
		if shape == app.ShapeLambdaV2 {
			httpDesc.Path = stagePrefix + decodedPath
			ev = httpAPIEvent{
				APIGatewayV2HTTPRequest: events.APIGatewayV2HTTPRequest{
					Version: "2.0", RouteKey: "$default", RawPath: stagePrefix + decodedPath, RawQueryString: rawQuery,
					Cookies: cookies, Headers: headers, QueryStringParameters: params,
					IsBase64Encoded: isBase64,
				},
				RequestContext: httpAPIRequestContext{APIGatewayV2HTTPRequestContext: events.APIGatewayV2HTTPRequestContext{
					RouteKey: "$default", AccountID: accountID, Stage: stage, RequestID: requestID,
					APIID: apiID, DomainName: host, DomainPrefix: prefix,
					Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
					HTTP: events.APIGatewayV2HTTPRequestContextHTTPDescription(httpDesc),
				}},
			}
		} else {
			ev = functionURLEvent{LambdaFunctionURLRequest: events.LambdaFunctionURLRequest{
				Version: "2.0", RawPath: rawPath, RawQueryString: rawQuery,
				Cookies: cookies, Headers: headers, QueryStringParameters: params,
				RequestContext: events.LambdaFunctionURLRequestContext{
					AccountID: accountID, RequestID: requestID, APIID: apiID,
					DomainName: host, DomainPrefix: prefix,
					Time: now.UTC().Format("02/Jan/2006:15:04:05 -0700"), TimeEpoch: now.UnixMilli(),
					HTTP: events.LambdaFunctionURLRequestContextHTTPDescription(httpDesc),
				},
				IsBase64Encoded: isBase64,
			}}
		}
	default:
		return nil, fmt.Errorf("%s is not a Lambda host shape", shape)
	}
	out, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	// A REST event always has a body field; the v2 and Function URL types
	// leave out an empty one (aws-lambda-go's omitempty).
	if bodyField != "" || shape == app.ShapeLambdaV1 {
		out = appendBodyField(out, bodyField, isBase64)
	}
	if o.Edit == nil {
		return out, nil
	}
	var m map[string]any
	dec := json.NewDecoder(bytes.NewReader(out))
	dec.UseNumber()
	if err := dec.Decode(&m); err != nil {
		return nil, err
	}
	o.Edit(m)
	return json.Marshal(m)
}

// The event types as the kit writes them: aws-lambda-go's, with the body
// written apart (appendBodyField) and, on an HTTP API, without
// requestContext.authentication. A field of the wrapper hides the embedded
// field of the same JSON name (encoding/json's rule for the shallower
// field), and a nil pointer with omitempty is not written.
type (
	restEvent struct {
		events.APIGatewayProxyRequest
		Body *struct{} `json:"body,omitempty"`
	}
	httpAPIEvent struct {
		events.APIGatewayV2HTTPRequest
		RequestContext httpAPIRequestContext `json:"requestContext"`
		Body           *struct{}             `json:"body,omitempty"`
	}
	httpAPIRequestContext struct {
		events.APIGatewayV2HTTPRequestContext
		// aws-lambda-go always writes requestContext.authentication (a
		// struct, which omitempty keeps); HTTP APIs send it only for mTLS.
		Authentication *struct{} `json:"authentication,omitempty"`
	}
	functionURLEvent struct {
		events.LambdaFunctionURLRequest
		Body *struct{} `json:"body,omitempty"`
	}
)

// appendBodyField adds "body" to the JSON object event. The body is most of
// a large request's event, and encoding/json escapes a string byte by byte
// (costly under the race detector, with which the kit's own tests run): a
// base64 body needs no escaping (its alphabet has no character JSON or
// HTML escaping touches), so it is written as it is; a text body is
// escaped as encoding/json escapes any string.
func appendBodyField(event []byte, field string, isBase64 bool) []byte {
	var escaped []byte
	size := len(field) + 2
	if !isBase64 {
		escaped, _ = json.Marshal(field) // a string always marshals
		size = len(escaped)
	}
	out := make([]byte, 0, len(event)+size+9)
	out = append(out, event[:len(event)-1]...) // without the closing brace
	if len(event) > 2 {
		out = append(out, ',')
	}
	out = append(out, `"body":`...)
	if isBase64 {
		out = append(append(append(out, '"'), field...), '"')
	} else {
		out = append(out, escaped...)
	}
	return append(out, '}')
}

type orderedPairs struct {
	keys   []string
	values map[string][]string
}

// queryPairs decodes a raw query as the gateways do: every value of every
// parameter, in order, "+" read as a space, a valueless parameter as "".
func queryPairs(raw string) orderedPairs {
	q := orderedPairs{values: map[string][]string{}}
	for pair := range strings.SplitSeq(raw, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		k, v = unescapeQueryPart(k), unescapeQueryPart(v)
		if _, seen := q.values[k]; !seen {
			q.keys = append(q.keys, k)
		}
		q.values[k] = append(q.values[k], v)
	}
	return q
}

func unescapeQueryPart(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// IsTextMediaType reports whether the gateway passes a body of this
// Content-Type as text: text/*, JSON, JavaScript, XML and the +json and
// +xml types. Everything else (form bodies included) is binary.
func IsTextMediaType(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	switch {
	case strings.HasPrefix(mt, "text/"),
		mt == "application/json", mt == "application/javascript", mt == "application/xml",
		strings.HasSuffix(mt, "+json"), strings.HasSuffix(mt, "+xml"):
		return true
	}
	return false
}

// EncodeBody is how the gateway puts a request body in the event:
// text that is valid UTF-8 as it is, anything else base64-encoded with
// isBase64Encoded set (B23).
func EncodeBody(contentType string, body []byte) (string, bool) {
	if len(body) == 0 {
		return "", false
	}
	if IsTextMediaType(contentType) && utf8.Valid(body) {
		return string(body), false
	}
	return base64.StdEncoding.EncodeToString(body), true
}

// framing headers belong to the gateway's own connection; it never takes
