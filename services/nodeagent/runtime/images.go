package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/errdefs"
	"github.com/distribution/reference"
)

// PullPolicy says when an image is fetched from its source, as the
// Kubernetes image pull policies do.
type PullPolicy int

const (
	// PullIfNotPresent fetches only an image the node does not hold.
	PullIfNotPresent PullPolicy = iota
	// PullAlways fetches on every container start; content already held
	// is not downloaded again (the registry's manifest is re-resolved).
	PullAlways
	// PullNever uses what the node holds and never contacts a registry.
	PullNever
)

// ErrImageNotPresent: the image is neither in containerd nor in an archive
// of the image directory.
var ErrImageNotPresent = errors.New("runtime: image not present on the node")

// archive is one file of the image directory as last imported.
type archive struct {
	size  int64
	mtime time.Time
	refs  []string
}

// archives remembers what the image directory held when it was last
// imported, so that an archive is imported again only when it changed.
type archives struct {
	mu     sync.Mutex // serialises imports of the directory
	byPath map[string]archive
}

// Image returns ref unpacked and ready to run under PullIfNotPresent: the
// node's copy, else one fetched from its source.
func (r *Runtime) Image(ctx context.Context, ref string) (client.Image, error) {
	img, err := r.LocalImage(ctx, ref)
	if errors.Is(err, ErrImageNotPresent) {
		img, _, err = r.PullImage(ctx, ref)
	}
	return img, err
}

// LocalImage returns ref unpacked from what the node holds: containerd's
// image store, else an archive of the image directory (importing a local
// file is not a pull: the directory is the node's preloaded images).
// ErrImageNotPresent when neither has it.
func (r *Runtime) LocalImage(ctx context.Context, ref string) (client.Image, error) {
	ctx = r.WithNamespace(ctx)
	img, err := r.getImage(ctx, ref)
	var ierr error
	if errdefs.IsNotFound(err) && r.imageDir != "" {
		_, ierr = r.importArchives(ctx, ref, true)
		img, err = r.getImage(ctx, ref)
	}
	if errdefs.IsNotFound(err) {
		if ierr != nil {
			// A broken archive may have been the one meant to provide it.
			return nil, fmt.Errorf("%w: %q (%v)", ErrImageNotPresent, ref, ierr)
		}
		return nil, fmt.Errorf("%w: %q", ErrImageNotPresent, ref)
	}
	if err != nil {
		return nil, fmt.Errorf("runtime: image %q: %w", ref, err)
	}
	if err := r.unpack(ctx, img); err != nil {
		return nil, err
	}
	return img, nil
}

// PullImage fetches ref from its source and returns it unpacked, with
// where it came from. The source of an image that an archive of the image
// directory provides is that archive (re-imported only when the file
// changed, as a registry pull of an unchanged digest downloads nothing);
// of any other image, its registry. Registries on loopback addresses are
// spoken to in plain HTTP (see New). Errors wrap ErrImageNotFound and
// carry the registry's error.
func (r *Runtime) PullImage(ctx context.Context, ref string) (client.Image, string, error) {
	ctx = r.WithNamespace(ctx)
	if r.imageDir != "" {
		path, err := r.importArchives(ctx, ref, false)
		if err != nil {
			return nil, "", err
		}
		if path != "" {
			img, err := r.getImage(ctx, ref)
			if errdefs.IsNotFound(err) {
				// containerd lost it (a purge, an rmi): import again.
				if path, err = r.importArchives(ctx, ref, true); err == nil {
					img, err = r.getImage(ctx, ref)
				}
			}
			if err != nil {
				return nil, "", fmt.Errorf("runtime: image %q from %s: %w", ref, path, err)
			}
			if err := r.unpack(ctx, img); err != nil {
				return nil, "", err
			}
			return img, "image archive " + path, nil
		}
	}
	img, err := r.pull(ctx, ref)
	if err != nil {
		return nil, "", err
	}
	return img, "registry", nil
}

func (r *Runtime) pull(ctx context.Context, ref string) (client.Image, error) {
	pctx, cancel := context.WithTimeout(ctx, r.pullTimeout)
	defer cancel()
	img, err := r.client.Pull(pctx, Normalize(ref), client.WithPullUnpack, client.WithPullSnapshotter(r.snapshotter),
		client.WithResolver(r.resolver))
	if err != nil {
		where := "no image archive in --image-dir provides it"
		if r.imageDir == "" {
			where = "no --image-dir is set"
		}
		if pctx.Err() != nil && ctx.Err() == nil {
			// Say which bound ended it: a registry that accepts the
			// connection and never answers gives only "context deadline
			// exceeded", which reads like the caller's own deadline.
			err = fmt.Errorf("no answer within the image pull timeout of %v: %w", r.pullTimeout, err)
		}
		return nil, fmt.Errorf("%w: %q: %s, and pulling it failed: %v", ErrImageNotFound, ref, where, err)
	}
	return img, nil
}

func (r *Runtime) unpack(ctx context.Context, img client.Image) error {
	if r.images.isUnpacked(img.Target().Digest) {
		return nil
	}
	ok, err := img.IsUnpacked(ctx, r.snapshotter)
	if err != nil {
		return fmt.Errorf("runtime: image %s: %w", img.Name(), err)
	}
	if !ok {
		if err := img.Unpack(ctx, r.snapshotter); err != nil {
			return fmt.Errorf("runtime: unpacking %s: %w", img.Name(), err)
		}
	}
	r.images.set(img.Target().Digest, nil, true)
	return nil
}

// importArchives imports the archives of the image directory that are new
// or changed since their last import and, with lost, the one providing ref
// again when containerd lost the image (a purge, an rmi). It returns the
// path of the archive providing ref, "" when none does. Unreadable
// archives are reported only when no archive provides ref.
func (r *Runtime) importArchives(ctx context.Context, ref string, lost bool) (string, error) {
	r.archives.mu.Lock()
	defer r.archives.mu.Unlock()
	entries, err := os.ReadDir(r.imageDir)
	if err != nil {
		return "", fmt.Errorf("runtime: image dir: %w", err)
	}
	var errs []error
	found := ""
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".tar") {
			continue
		}
		path := filepath.Join(r.imageDir, e.Name())
		fi, err := e.Info()
		if err != nil {
			continue // removed meanwhile
		}
		prev, seen := r.archives.byPath[path]
		changed := !seen || prev.size != fi.Size() || !prev.mtime.Equal(fi.ModTime())
		if !changed && lost && provides(prev.refs, ref) {
			if _, gerr := r.getImage(ctx, ref); errdefs.IsNotFound(gerr) {
				changed = true
			}
		}
		if changed {
			refs, err := r.importFile(ctx, path)
			if err != nil {
				errs = append(errs, err)
				delete(r.archives.byPath, path)
				continue
			}
			prev = archive{size: fi.Size(), mtime: fi.ModTime(), refs: refs}
			r.archives.byPath[path] = prev
		}
		if provides(prev.refs, ref) {
			found = path
		}
	}
	for path := range r.archives.byPath {
		if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
			delete(r.archives.byPath, path)
		}
	}
	if found != "" {
		return found, nil
	}
	return "", errors.Join(errs...)
}

// provides says whether an archive holding refs provides ref, as written
// or in its normalised form.
func provides(refs []string, ref string) bool {
	norm := Normalize(ref)
	return slices.Contains(refs, ref) || slices.Contains(refs, norm)
}

// Normalize gives a reference its registry and tag as Kubernetes does
// ("busybox" is docker.io/library/busybox:latest); a reference that does
// not parse is returned as it is, for the pull to report.
func Normalize(ref string) string {
	named, err := reference.ParseDockerRef(ref)
	if err != nil {
		return ref
	}
	return named.String()
}

// getImage finds ref in containerd's store as written, else normalised
// (a pulled image is stored under its normalised name).
func (r *Runtime) getImage(ctx context.Context, ref string) (client.Image, error) {
	img, err := r.client.GetImage(ctx, ref)
	if norm := Normalize(ref); errdefs.IsNotFound(err) && norm != ref {
		img, err = r.client.GetImage(ctx, norm)
	}
	return img, err
}

// ImportDir imports every OCI archive (*.tar) of the image directory that
// is new or changed and returns the names of the images they held. Import
// does not unpack: LocalImage and PullImage do, on first use.
func (r *Runtime) ImportDir(ctx context.Context) ([]string, error) {
	if r.imageDir == "" {
		return nil, nil
	}
	ctx = r.WithNamespace(ctx)
	if _, err := r.importArchives(ctx, "", false); err != nil {
		return nil, err
	}
	r.archives.mu.Lock()
	defer r.archives.mu.Unlock()
	var names []string
	for _, a := range r.archives.byPath {
		names = append(names, a.refs...)
	}
	return names, nil
}

// ImportArchive imports one OCI (or docker) archive.
func (r *Runtime) ImportArchive(ctx context.Context, path string) ([]string, error) {
	return r.importFile(r.WithNamespace(ctx), path)
}

func (r *Runtime) importFile(ctx context.Context, path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("runtime: import: %w", err)
	}
	defer f.Close()
	imgs, err := r.client.Import(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("runtime: importing %s: %w", path, err)
	}
	names := make([]string, 0, len(imgs))
	for _, i := range imgs {
		names = append(names, i.Name)
	}
	return names, nil
}

// ImageCommand returns the image's entrypoint and cmd.
func (r *Runtime) ImageCommand(ctx context.Context, img client.Image) (entrypoint, cmd []string, err error) {
	cfg, err := r.ImageConfig(ctx, img)
	if err != nil {
		return nil, nil, err
	}
	return cfg.Entrypoint, cfg.Cmd, nil
}
