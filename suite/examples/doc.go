// Package examples holds, in its subdirectories, the ways an adapter author
// wires the suite into Go tests. Each subdirectory is its own test binary on
// purpose: ginkgo keeps one global suite per process, so suite.Test must not
// share a test binary with other ginkgo specs.
package examples
