package runtime

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/core/remotes"
	"github.com/containerd/containerd/v2/core/remotes/docker"
	"github.com/containerd/containerd/v2/pkg/namespaces"
)

// ErrImageNotFound is returned when an image is neither present, nor in the
// image directory, nor pullable.
var ErrImageNotFound = errors.New("runtime: image not found")

// Runtime talks to one containerd in one namespace.
type Runtime struct {
	client      *client.Client
	namespace   string
	snapshotter string
	fifoDir     string
	imageDir    string
	pullTimeout time.Duration
	resolver    remotes.Resolver
	archives    archives
	images      imageCache
}

type options struct {
	snapshotter string
	fifoDir     string
	imageDir    string
	pullTimeout time.Duration
}

// dialTimeout bounds the connection to containerd in New.
const dialTimeout = 10 * time.Second

// Option tunes New.
type Option func(*options)

// WithSnapshotter selects the snapshotter (default overlayfs).
func WithSnapshotter(name string) Option { return func(o *options) { o.snapshotter = name } }

// WithFIFODir is where task stdio FIFOs are created (default
// /run/shoal/fifo/<namespace>).
func WithFIFODir(dir string) Option { return func(o *options) { o.fifoDir = dir } }

// WithImageDir is a directory of OCI archives (*.tar) imported on demand.
func WithImageDir(dir string) Option { return func(o *options) { o.imageDir = dir } }

// WithPullTimeout bounds a registry pull (default 2 minutes, as
// kubelet's --runtime-request-timeout).
func WithPullTimeout(d time.Duration) Option { return func(o *options) { o.pullTimeout = d } }

// New connects to containerd at address and uses namespace for everything.
func New(address, namespace string, opts ...Option) (*Runtime, error) {
	o := options{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.snapshotter == "" {
		o.snapshotter = "overlayfs"
	}
	if o.fifoDir == "" {
		o.fifoDir = filepath.Join("/run/shoal/fifo", namespace)
	}
	if o.pullTimeout == 0 {
		o.pullTimeout = 2 * time.Minute
	}
	c, err := client.New(address, client.WithDefaultNamespace(namespace), client.WithTimeout(dialTimeout))
	if err != nil {
		return nil, fmt.Errorf("runtime: connecting to containerd at %s: %w", address, err)
	}
	// Pulls resolve and fetch in this process (containerd only stores the
	// content). Registries on loopback addresses (localhost, 127.0.0.0/8,
	// ::1) are spoken to in plain HTTP, as containerd and docker do by
	// default for localhost; every other registry needs HTTPS.
	resolver := docker.NewResolver(docker.ResolverOptions{
		Hosts: docker.ConfigureDefaultRegistries(docker.WithPlainHTTP(docker.MatchLocalhost)),
	})
	return &Runtime{client: c, namespace: namespace, snapshotter: o.snapshotter, fifoDir: o.fifoDir,
		imageDir: o.imageDir, pullTimeout: o.pullTimeout, resolver: resolver,
		archives: archives{byPath: map[string]archive{}}}, nil
}

// Client is the underlying containerd client.
func (r *Runtime) Client() *client.Client { return r.client }

// Namespace is the containerd namespace in use.
func (r *Runtime) Namespace() string { return r.namespace }

// WithNamespace returns ctx carrying the runtime's containerd namespace.
func (r *Runtime) WithNamespace(ctx context.Context) context.Context {
	return namespaces.WithNamespace(ctx, r.namespace)
}

// Version is containerd's version, e.g. "containerd://1.6.20".
func (r *Runtime) Version(ctx context.Context) (string, error) {
	v, err := r.client.Version(r.WithNamespace(ctx))
	if err != nil {
		return "", fmt.Errorf("runtime: version: %w", err)
	}
	return "containerd://" + v.Version, nil
}

// Close closes the connection; containers and tasks keep running.
func (r *Runtime) Close() error { return r.client.Close() }

// RemoveEmptyCgroups removes the namespace's parent cgroup directories
// (runc creates /<namespace>/<id> and leaves the empty parent behind). Only
// empty directories go; a running container keeps its parent.
func (r *Runtime) RemoveEmptyCgroups() {
	roots, _ := filepath.Glob("/sys/fs/cgroup/*/" + r.namespace)
	if unified := "/sys/fs/cgroup/" + r.namespace; dirExists(unified) {
		roots = append(roots, unified)
	}
	for _, d := range roots {
		if !strings.HasSuffix(d, "/"+r.namespace) {
			continue
		}
		_ = syscall.Rmdir(d)
	}
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
