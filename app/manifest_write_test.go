package app_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/adapterconformance/adapter-conformance/app"
)

// TestWriteManifestRoundTrip: what WriteManifest writes, LoadManifest reads
// back as the same app, public files and base-prefixed assets included, and
// writing again over it changes nothing.
func TestWriteManifestRoundTrip(t *testing.T) {
	m, err := app.ParseManifest([]byte(`{
		"name": "written",
		"base": "/app",
		"routes": [{"route": "/<b>&", "type": "page", "page": {"title": "T"}}]
	}`), "inline")
	if err != nil {
		t.Fatal(err)
	}
	m.Public = fstest.MapFS{"robots.txt": {Data: []byte("ok")}, "img/a.png": {Data: []byte("png")}}
	dir := filepath.Join(t.TempDir(), "nested")
	for range 2 {
		if err := app.WriteManifest(m, dir); err != nil {
			t.Fatalf("WriteManifest: %v", err)
		}
	}
	raw, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"/<b>&"`) {
		t.Errorf("manifest.json escapes HTML characters in patterns:\n%s", raw)
	}
	got, err := app.LoadManifest(dir)
	if err != nil {
		t.Fatalf("LoadManifest of what WriteManifest wrote: %v", err)
	}
	if want := []string{"/app/img/a.png", "/app/robots.txt"}; strings.Join(got.Assets, " ") != strings.Join(want, " ") {
		t.Errorf("assets = %q, want %q", got.Assets, want)
	}
	got.Source, got.Public, got.Assets = m.Source, m.Public, m.Assets
	a, err1 := app.MarshalManifest(m)
	b, err2 := app.MarshalManifest(got)
	if err1 != nil || err2 != nil || !bytes.Equal(a, b) {
		t.Errorf("the manifest read back differs (%v, %v):\nwrote %s\nread  %s", err1, err2, a, b)
	}
}

// TestWriteManifestRefusesStrayPublicFiles: a file under public/ that the app
// does not have would become an asset when loaded, so writing over it fails
// and names it.
func TestWriteManifestRefusesStrayPublicFiles(t *testing.T) {
	m, err := app.ParseManifest([]byte(`{"name": "written", "routes": [{"route": "/", "type": "page", "page": {"title": "T"}}]}`), "inline")
	if err != nil {
		t.Fatal(err)
	}
	m.Public = fstest.MapFS{"robots.txt": {Data: []byte("ok")}}
	dir := t.TempDir()
	stray := filepath.Join(dir, "public", "stray.txt")
	if err := os.MkdirAll(filepath.Dir(stray), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stray, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := app.WriteManifest(m, dir); err == nil || !strings.Contains(err.Error(), stray) {
		t.Fatalf("WriteManifest over a stray public file: err = %v, want one naming %s", err, stray)
	}
}
