// Package adapterconformance holds what belongs to the whole kit rather than
// to one of its packages: the requirement list (SPEC.md) and the kit version.
// SPEC.md is the contract; the suite parses it at run time so that a spec can
// never name a requirement the document does not define.
package adapterconformance

import _ "embed"

// SpecMarkdown is SPEC.md as shipped with this version of the kit.
//
//go:embed SPEC.md
var SpecMarkdown []byte

// Version is the kit's version, recorded in every report. Release builds
// override it with -ldflags "-X ...adapterconformance.Version=v1.2.3".
var Version = "0.1.0-dev"
