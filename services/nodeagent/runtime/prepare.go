package runtime

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/containers"
	"github.com/containerd/containerd/v2/core/leases"
	"github.com/containerd/containerd/v2/pkg/oci"
	"github.com/containerd/errdefs"
	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/identity"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Prepared is a container made up to its record: the rootfs snapshot
// exists and the spec is built, but containerd holds no container yet.
// Commit creates it (adding what is only known later: the sandbox's
// namespaces, the pod IP); Discard undoes Prepare. Preparing the app
// containers while the sandbox and its network come up leaves only the
// record, the task and its start after them.
type Prepared struct {
	ID    string
	image string
	spec  *oci.Spec
	// lease keeps the snapshot from containerd's garbage collector until
	// the container record refers to it; a shared one (WithLease) is the
	// caller's to release.
	lease       leases.Lease
	sharedLease bool
}

// imageInfo is what the agent reads from an image's config, once per
// image digest.
type imageInfo struct {
	chainID string
	config  ocispec.ImageConfig
}

// imageCache remembers image configs and unpacked images by the image's
// target digest: they never change for a digest, and reading them costs
// several containerd calls per container start.
type imageCache struct {
	mu       sync.Mutex
	info     map[digest.Digest]imageInfo
	unpacked map[digest.Digest]bool
}

func (c *imageCache) getInfo(d digest.Digest) (imageInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	i, ok := c.info[d]
	return i, ok
}

func (c *imageCache) isUnpacked(d digest.Digest) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.unpacked[d]
}

func (c *imageCache) set(d digest.Digest, info *imageInfo, unpacked bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.info == nil {
		c.info, c.unpacked = map[digest.Digest]imageInfo{}, map[digest.Digest]bool{}
	}
	if info != nil {
		c.info[d] = *info
	}
	if unpacked {
		c.unpacked[d] = true
	}
}

// forget drops what is known about an image whose snapshots went missing
// (it is unpacked again on next use).
func (c *imageCache) forget(d digest.Digest) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.unpacked, d)
}

func (r *Runtime) imageInfo(ctx context.Context, img client.Image) (imageInfo, error) {
	d := img.Target().Digest
	if i, ok := r.images.getInfo(d); ok {
		return i, nil
	}
	spec, err := img.Spec(ctx)
	if err != nil {
		return imageInfo{}, fmt.Errorf("runtime: image config of %s: %w", img.Name(), err)
	}
	i := imageInfo{chainID: identity.ChainID(spec.RootFS.DiffIDs).String(), config: spec.Config}
	r.images.set(d, &i, false)
	return i, nil
}

// ImageConfig is the image's config (entrypoint, cmd, env, working dir).
func (r *Runtime) ImageConfig(ctx context.Context, img client.Image) (ocispec.ImageConfig, error) {
	i, err := r.imageInfo(r.WithNamespace(ctx), img)
	return i.config, err
}

// WithImageProcess sets the process from an image config read earlier
// (ImageConfig): arguments, environment and working directory, as root.
// Unlike oci.WithImageConfig it reads nothing from containerd and mounts
// nothing (no lookup of the image's /etc/group): for the pause container.
func WithImageProcess(cfg ocispec.ImageConfig) oci.SpecOpts {
	return func(ctx context.Context, c oci.Client, ctr *containers.Container, s *oci.Spec) error {
		args := append(append([]string{}, cfg.Entrypoint...), cfg.Cmd...)
		if len(args) == 0 {
			return fmt.Errorf("runtime: image %s has no entrypoint or cmd", ctr.Image)
		}
		if err := oci.WithEnv(cfg.Env)(ctx, c, ctr, s); err != nil {
			return err
		}
		if cfg.WorkingDir != "" {
			s.Process.Cwd = cfg.WorkingDir
		}
		return oci.WithProcessArgs(args...)(ctx, c, ctr, s)
	}
}

// Prepare makes the container's rootfs snapshot (named after id) from img
// and builds its spec from opts. A snapshot or container left under id by
// an earlier attempt is removed first.
func (r *Runtime) Prepare(ctx context.Context, id string, img client.Image, opts ...oci.SpecOpts) (*Prepared, error) {
	ctx = r.WithNamespace(ctx)
	info, err := r.imageInfo(ctx, img)
	if err != nil {
		return nil, err
	}
	p := &Prepared{ID: id, image: img.Name()}
	if lid, ok := leases.FromContext(ctx); ok {
		p.lease, p.sharedLease = leases.Lease{ID: lid}, true
	} else if p.lease, err = r.client.LeasesService().Create(ctx, leases.WithRandomID(), leases.WithExpiration(time.Hour)); err != nil {
		return nil, fmt.Errorf("runtime: lease for %s: %w", id, err)
	}
	lctx := leases.WithLease(ctx, p.lease.ID)
	sn := r.client.SnapshotService(r.snapshotter)
	_, err = sn.Prepare(lctx, id, info.chainID)
	if errdefs.IsAlreadyExists(err) {
		// Left by an earlier attempt that did not finish.
		r.removeID(ctx, id)
		_ = sn.Remove(ctx, id)
		_, err = sn.Prepare(lctx, id, info.chainID)
	}
	if err != nil {
		if errdefs.IsNotFound(err) {
			r.images.forget(img.Target().Digest) // its layers went missing
		}
		r.release(ctx, p)
		return nil, fmt.Errorf("runtime: snapshot of %s: %w", id, err)
	}
	ctr := containers.Container{ID: id, Image: p.image, Snapshotter: r.snapshotter, SnapshotKey: id}
	if p.spec, err = oci.GenerateSpec(lctx, r.client, &ctr, opts...); err != nil {
		r.Discard(ctx, p)
		return nil, fmt.Errorf("runtime: spec of %s: %w", id, err)
	}
	return p, nil
}

// Commit creates the prepared container with labels, applying opts to its
// spec first. On failure the preparation is discarded.
func (r *Runtime) Commit(ctx context.Context, p *Prepared, labels map[string]string, opts ...oci.SpecOpts) (client.Container, error) {
	ctx = r.WithNamespace(ctx)
	lctx := leases.WithLease(ctx, p.lease.ID)
	create := func() (client.Container, error) {
		return r.client.NewContainer(lctx, p.ID, client.WithImageName(p.image), client.WithContainerLabels(labels),
			func(_ context.Context, _ *client.Client, c *containers.Container) error {
				c.Snapshotter, c.SnapshotKey = r.snapshotter, p.ID
				return nil
			},
			client.WithSpec(p.spec, opts...))
	}
	c, err := create()
	if errdefs.IsAlreadyExists(err) {
		// A record left by an earlier attempt, whose snapshot Prepare
		// replaced: drop the record (and its task), keep the snapshot.
		if old, lerr := r.client.LoadContainer(ctx, p.ID); lerr == nil {
			if task, terr := old.Task(ctx, nil); terr == nil {
				r.deleteTask(ctx, task)
			}
			r.removeFIFOs(p.ID)
			_ = old.Delete(ctx)
		}
		c, err = create()
	}
	if err != nil {
		r.Discard(ctx, p)
		return nil, fmt.Errorf("runtime: creating container %s: %w", p.ID, err)
	}
	r.release(ctx, p)
	return c, nil
}

// Discard removes a prepared container's snapshot.
func (r *Runtime) Discard(ctx context.Context, p *Prepared) {
	ctx = r.WithNamespace(context.WithoutCancel(ctx))
	// Should the removal fail, the lease going lets the collector take it.
	_ = r.client.SnapshotService(r.snapshotter).Remove(ctx, p.ID)
	r.release(ctx, p)
}

func (r *Runtime) release(ctx context.Context, p *Prepared) {
	if !p.sharedLease {
		_ = r.client.LeasesService().Delete(r.WithNamespace(context.WithoutCancel(ctx)), p.lease)
	}
}

// WithLease returns ctx carrying a new lease for the Prepare and Commit
// calls made with it, and the function releasing it once their containers
// exist: a pod's sandbox and containers made under one lease cost two
// containerd metadata writes instead of two per container.
func (r *Runtime) WithLease(ctx context.Context) (context.Context, func(), error) {
	ctx = r.WithNamespace(ctx)
	l, err := r.client.LeasesService().Create(ctx, leases.WithRandomID(), leases.WithExpiration(time.Hour))
	if err != nil {
		return ctx, func() {}, fmt.Errorf("runtime: lease: %w", err)
	}
	return leases.WithLease(ctx, l.ID), func() {
		_ = r.client.LeasesService().Delete(r.WithNamespace(context.WithoutCancel(ctx)), l)
	}, nil
}

// removeID removes the container id with its task and snapshot, if any.
func (r *Runtime) removeID(ctx context.Context, id string) {
	c, err := r.client.LoadContainer(ctx, id)
	if err == nil {
		_ = r.Remove(ctx, c)
	}
}
