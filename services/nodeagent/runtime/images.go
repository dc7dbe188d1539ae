package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/errdefs"
)

// Image returns ref unpacked and ready to run: present in containerd, else
// imported from the image directory, else pulled from its registry.
func (r *Runtime) Image(ctx context.Context, ref string) (client.Image, error) {
	ctx = r.WithNamespace(ctx)
	img, err := r.client.GetImage(ctx, ref)
	if errdefs.IsNotFound(err) && r.imageDir != "" {
		if _, ierr := r.ImportDir(ctx, r.imageDir); ierr != nil {
			return nil, ierr
		}
		img, err = r.client.GetImage(ctx, ref)
	}
	if errdefs.IsNotFound(err) {
		img, err = r.pull(ctx, ref)
	}
	if err != nil {
		return nil, err
	}
	if err := r.unpack(ctx, img); err != nil {
		return nil, err
	}
	return img, nil
}

func (r *Runtime) pull(ctx context.Context, ref string) (client.Image, error) {
	pctx, cancel := context.WithTimeout(ctx, r.pullTimeout)
	defer cancel()
	img, err := r.client.Pull(pctx, ref, client.WithPullUnpack, client.WithPullSnapshotter(r.snapshotter))
	if err != nil {
		where := "no image archive in --image-dir provides it"
		if r.imageDir == "" {
			where = "no --image-dir is set"
		}
		return nil, fmt.Errorf("%w: %q is not present, %s, and pulling failed: %v", ErrImageNotFound, ref, where, err)
	}
	return img, nil
}

func (r *Runtime) unpack(ctx context.Context, img client.Image) error {
	ok, err := img.IsUnpacked(ctx, r.snapshotter)
	if err != nil {
		return fmt.Errorf("runtime: image %s: %w", img.Name(), err)
	}
	if ok {
		return nil
	}
	if err := img.Unpack(ctx, r.snapshotter); err != nil {
		return fmt.Errorf("runtime: unpacking %s: %w", img.Name(), err)
	}
	return nil
}

// ImportDir imports every OCI archive (*.tar) in dir and returns the names
// of the images it held. Import does not unpack: Image does, on first use.
func (r *Runtime) ImportDir(ctx context.Context, dir string) ([]string, error) {
	ctx = r.WithNamespace(ctx)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("runtime: image dir: %w", err)
	}
	var names []string
	var errs []error
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".tar") {
			continue
		}
		imported, err := r.ImportArchive(ctx, filepath.Join(dir, e.Name()))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		names = append(names, imported...)
	}
	return names, errors.Join(errs...)
}

// ImportArchive imports one OCI (or docker) archive.
func (r *Runtime) ImportArchive(ctx context.Context, path string) ([]string, error) {
	ctx = r.WithNamespace(ctx)
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
	spec, err := img.Spec(r.WithNamespace(ctx))
	if err != nil {
		return nil, nil, fmt.Errorf("runtime: image config of %s: %w", img.Name(), err)
	}
	return spec.Config.Entrypoint, spec.Config.Cmd, nil
}
