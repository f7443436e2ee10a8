package app

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// MarshalManifest encodes a manifest in the form ParseManifest reads. It
// lives beside the reader so that the two cannot drift apart. HTML escaping
// is off so that patterns and cookie values stay legible in a written
// manifest.json.
func MarshalManifest(m *Manifest) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(m); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteManifest writes m to dir in the layout LoadManifest reads
// (dir/manifest.json and dir/public), for an adapter that loads the app in
// another process. It replaces dir/manifest.json and m's files under
// dir/public and leaves the rest of dir alone; because every file under
// public/ becomes an asset when loaded, a file there that m does not have is
// an error rather than a silent change to the app.
func WriteManifest(m *Manifest, dir string) error {
	name := m.Name
	data, err := MarshalManifest(m)
	if err != nil {
		return fmt.Errorf("app: write manifest %s: %w", name, err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("app: write manifest %s: %w", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "manifest.json"), data, 0o644); err != nil {
		return fmt.Errorf("app: write manifest %s: %w", name, err)
	}
	if m.Public == nil {
		return nil
	}
	publicDir := filepath.Join(dir, "public")
	if err := copyFS(publicDir, m.Public); err != nil {
		return fmt.Errorf("app: write manifest %s: %w", name, err)
	}
	if err := checkNoStrayFiles(publicDir, m.Public); err != nil {
		return fmt.Errorf("app: write manifest %s: %w", name, err)
	}
	return nil
}

// copyFS is os.CopyFS without its refusal to overwrite, so that writing
// over a previous write works.
func copyFS(dir string, fsys fs.FS) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		dst := filepath.Join(dir, filepath.FromSlash(p))
		if d.IsDir() {
			return os.MkdirAll(dst, 0o755)
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s: not a regular file", p)
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		return os.WriteFile(dst, data, 0o644)
	})
}

func checkNoStrayFiles(dir string, want fs.FS) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if _, err := fs.Stat(want, filepath.ToSlash(rel)); err != nil {
			return fmt.Errorf("%s is not part of the app and would become an asset; remove it or write to an empty directory", p)
		}
		return nil
	})
}
