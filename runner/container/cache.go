package container

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/moby/moby/client"
)

// The image cache (issue 19 item 3). Building a target's image (the Go
// build, the context upload, the engine's commits) is most of a container
// run's setup, and the same build context always gives the same image; so,
// like Go's build cache, an image built from a build context is kept after
// Close and reused by later runs while that context is unchanged.
//
// An image is found by its cache tag, <repo>:cache-<hash>, where hash is
// the content hash of the final build context (contextHash) and repo
// carries the target's name; its labels repeat the hash (LabelContentHash)
// and mark it cached (LabelCached). A run that uses a cached image holds a
// lease on it, a tag of its own (<repo>:lease-<pid>-<random>-<host>), and
// drops the lease in Close: removing the cache tag (an eviction, a user's
// `docker image rm` of it without -f) then only untags while a lease holds
// it, so no run loses its image under it, and the image goes with the last
// tag. The sweep drops the leases of dead processes and never removes a
// tagged cached image; it still removes the untagged images a dead run's
// build left (its intermediate images, or a build cut between its last
// commit and its tag).

// keepCached is how many cached images of one target name are kept: the
// newest ones; a new build evicts the older ones. A few, so that switching
// between branches keeps hitting the cache without the engine's disk
// filling up with every edit's image.
const keepCached = 3

// cacheKeyVersion is hashed first: a change to how the kit builds images
// (the labels, the build context it makes) changes it, so that images of
// an older kit are not reused.
const cacheKeyVersion = "adapter-conformance image cache v1\n"

// contextHash is the sha256 of a build context: every entry's path
// relative to dir (with /), its type and permission bits, and a regular
// file's bytes or a symlink's target, walked in lexical order. It reads
// what the engine would be sent; .dockerignore is not applied, so an
// ignored file that changes costs a rebuild, never a stale image.
func contextHash(dir string) (string, error) {
	h := sha256.New()
	io.WriteString(h, cacheKeyVersion)
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		fmt.Fprintf(h, "%q %o\n", filepath.ToSlash(rel), info.Mode()&(fs.ModeType|fs.ModePerm))
		switch {
		case info.Mode().IsRegular():
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			n, err := io.Copy(h, f)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "\n%d\n", n)
		case info.Mode()&fs.ModeSymlink != 0:
			target, err := os.Readlink(path)
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "-> %q\n", target)
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("hashing the build context %s: %w", dir, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// cacheTagPrefix and leaseTagPrefix begin the tags of the image cache.
const (
	cacheTagPrefix = "cache-"
	leaseTagPrefix = "lease-"
)

// cacheRef is the reference of the cached image of a repository and hash.
func cacheRef(repo, hash string) string { return repo + ":" + cacheTagPrefix + hash }

// leaseTag is a new lease tag of this process: its pid, a random part (a
// process may hold several), and this host, as a tag may spell it.
func leaseTag() string {
	tag := leaseTagPrefix + strconv.Itoa(os.Getpid()) + "-" + randomHex(4) + "-" + tagHost()
	return tag[:min(len(tag), 128)]
}

// tagHost is the host name with what a tag cannot hold replaced.
func tagHost() string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-' {
			return r
		}
		return '_'
	}, hostname())
}

// leaseOrphaned: a lease tag of this host whose process no longer runs.
func leaseOrphaned(tag string) bool {
	rest, ok := strings.CutPrefix(tag, leaseTagPrefix)
	if !ok {
		return false
	}
	parts := strings.SplitN(rest, "-", 3)
	if len(parts) != 3 {
		return false
	}
	pid, err := strconv.Atoi(parts[0])
	host := tagHost()
	// The tag may have cut the host name short.
	return err == nil && parts[2] == host[:min(len(host), len(parts[2]))] && pid != os.Getpid() && !pidAlive(pid)
}

// tagOf is the tag part of a repo:tag reference ("" when it has none).
func tagOf(ref string) string {
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		return ref[i+1:]
	}
	return ""
}

// reuseCached looks for the cached image of repo and hash and takes a
// lease on it; ok is false when there is none (or it went meanwhile).
func reuseCached(ctx context.Context, cli client.APIClient, repo, hash string) (lease, id string, ok bool) {
	img, err := cli.ImageInspect(ctx, cacheRef(repo, hash))
	if err != nil || img.Config == nil {
		return "", "", false
	}
	labels := img.Config.Labels
	if labels[LabelManaged] != "true" || labels[LabelCached] != "true" || labels[LabelContentHash] != hash {
		return "", "", false
	}
	// By ID: if an eviction removed the image since, this fails and the
	// image is built again, rather than the lease naming another one.
	lease = repo + ":" + leaseTag()
	if _, err := cli.ImageTag(ctx, client.ImageTagOptions{Source: img.ID, Target: lease}); err != nil {
		return "", "", false
	}
	return lease, img.ID, true
}

// releaseLease drops a lease tag. The image stays while its cache tag or
// another lease holds it, and goes with its last tag (an evicted image).
func releaseLease(ctx context.Context, cli client.APIClient, lease string) error {
	_, err := cli.ImageRemove(ctx, lease, client.ImageRemoveOptions{PruneChildren: true})
	if err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
		return fmt.Errorf("releasing image %s: %w", lease, err)
	}
	return nil
}

// evictCached keeps the newest keepCached cached images of a target name
// and removes the cache tags of the older ones (an image a live run holds
// a lease on stays until that run ends).
func evictCached(ctx context.Context, cli client.APIClient, name string) error {
	f := make(client.Filters).Add("label", LabelManaged+"=true", LabelCached+"=true", LabelTarget+"="+name)
	list, err := cli.ImageList(ctx, client.ImageListOptions{Filters: f})
	if err != nil {
		return fmt.Errorf("listing the cached images of %s: %w", name, err)
	}
	var cached []int
	for i, img := range list.Items {
		if slices.ContainsFunc(img.RepoTags, isCacheRef) {
			cached = append(cached, i)
		}
	}
	slices.SortFunc(cached, func(a, b int) int { return int(list.Items[b].Created - list.Items[a].Created) })
	var errs []error
	for _, i := range cached[min(len(cached), keepCached):] {
		for _, ref := range list.Items[i].RepoTags {
			if !isCacheRef(ref) {
				continue
			}
			if _, err := cli.ImageRemove(ctx, ref, client.ImageRemoveOptions{PruneChildren: true}); err != nil && !cerrdefs.IsNotFound(err) && !cerrdefs.IsConflict(err) {
				errs = append(errs, fmt.Errorf("evicting cached image %s: %w", ref, err))
			}
		}
	}
	return errors.Join(errs...)
}

func isCacheRef(ref string) bool { return strings.HasPrefix(tagOf(ref), cacheTagPrefix) }

// tagged: an image with a tag ("<none>:<none>" is none).
func tagged(tags []string) bool {
	return slices.ContainsFunc(tags, func(t string) bool { return t != "" && t != "<none>:<none>" })
}

// sweepLeases drops the lease tags of dead processes of this host from the
// cached images; an evicted image whose last lease that was goes with it.
func sweepLeases(ctx context.Context, cli client.APIClient) error {
	f := make(client.Filters).Add("label", LabelManaged+"=true", LabelCached+"=true")
	list, err := cli.ImageList(ctx, client.ImageListOptions{Filters: f})
	if err != nil {
		return fmt.Errorf("listing the cached images: %w", err)
	}
	var errs []error
	for _, img := range list.Items {
		for _, ref := range img.RepoTags {
			if leaseOrphaned(tagOf(ref)) {
				errs = append(errs, releaseLease(ctx, cli, ref))
			}
		}
	}
	return errors.Join(errs...)
}

// RemoveCachedImages removes the images the kit keeps in its image cache
// for the target named name (every target's when name is ""), as `docker
// image rm` of their cache tags would: an image a live run still uses
// stays until that run ends. removed counts the cache tags removed.
func RemoveCachedImages(ctx context.Context, name string) (removed int, err error) {
	p, err := dockerProvider(ctx)
	if err != nil {
		return 0, err
	}
	cli := p.Client()
	f := make(client.Filters).Add("label", LabelManaged+"=true", LabelCached+"=true")
	if name != "" {
		f = f.Add("label", LabelTarget+"="+name)
	}
	list, err := cli.ImageList(ctx, client.ImageListOptions{Filters: f})
	if err != nil {
		return 0, fmt.Errorf("listing the cached images: %w", err)
	}
	var errs []error
	for _, img := range list.Items {
		for _, ref := range img.RepoTags {
			if !isCacheRef(ref) {
				continue
			}
			_, err := cli.ImageRemove(ctx, ref, client.ImageRemoveOptions{PruneChildren: true})
			switch {
			case err == nil:
				removed++
			case cerrdefs.IsNotFound(err):
			default:
				errs = append(errs, fmt.Errorf("removing cached image %s: %w", ref, err))
			}
		}
	}
	return removed, errors.Join(errs...)
}
