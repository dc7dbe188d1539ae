package pods

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/containerd/containerd/v2/client"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/apigateway/defaults"
	"github.com/shoalmesh/shoal/services/nodeagent/runtime"
)

// Waiting reasons of a container whose image is not there, as in Kubernetes.
const (
	waitErrImagePull      = "ErrImagePull"
	waitImagePullBackOff  = "ImagePullBackOff"
	waitErrImageNeverPull = "ErrImageNeverPull"
)

// pullPolicy is the container's image pull policy. The gateway defaults it
// with defaults.PullPolicy; an unset or unknown value (an object stored
// before defaulting, a newer client) gets that same rule here.
func pullPolicy(c *shoalv1.Container) runtime.PullPolicy {
	switch c.GetImagePullPolicy() {
	case shoalv1.ImagePullPolicy_IMAGE_PULL_POLICY_ALWAYS:
		return runtime.PullAlways
	case shoalv1.ImagePullPolicy_IMAGE_PULL_POLICY_NEVER:
		return runtime.PullNever
	case shoalv1.ImagePullPolicy_IMAGE_PULL_POLICY_IF_NOT_PRESENT:
		return runtime.PullIfNotPresent
	}
	if defaults.PullPolicy(c.GetImage()) == shoalv1.ImagePullPolicy_IMAGE_PULL_POLICY_ALWAYS {
		return runtime.PullAlways
	}
	return runtime.PullIfNotPresent
}

// imageErr is a container start that failed for want of its image; reason
// is its Waiting reason (ErrImagePull or ErrImageNeverPull).
type imageErr struct {
	reason string
	error
}

func (e imageErr) Unwrap() error { return e.error }

// ensureImage obtains the container's image as its pull policy says and
// records the kubelet's events about it.
func (m *Manager) ensureImage(ctx context.Context, pod *shoalv1.Pod, c *shoalv1.Container) (client.Image, error) {
	ref := c.GetImage()
	policy := pullPolicy(c)
	if policy != runtime.PullAlways {
		img, err := m.rt.LocalImage(ctx, ref)
		switch {
		case err == nil:
			m.normal(pod, reasonPulled, "Container image %q already present on machine", ref)
			return img, nil
		case !errors.Is(err, runtime.ErrImageNotPresent):
			m.warning(pod, reasonFailed, "Failed to pull image %q: %v", ref, err)
			return nil, imageErr{reason: waitErrImagePull, error: err}
		case policy == runtime.PullNever:
			msg := fmt.Sprintf("Container image %q is not present with pull policy of Never", ref)
			m.warning(pod, reasonErrImageNeverPull, "%s", msg)
			return nil, imageErr{reason: waitErrImageNeverPull, error: errors.New(msg)}
		}
	}
	m.normal(pod, reasonPulling, "Pulling image %q", ref)
	start := time.Now()
	img, source, err := m.rt.PullImage(ctx, ref)
	if err != nil {
		m.warning(pod, reasonFailed, "Failed to pull image %q: %v", ref, err)
		return nil, imageErr{reason: waitErrImagePull, error: err}
	}
	m.normal(pod, reasonPulled, "Successfully pulled image %q from %s in %s", ref, source, time.Since(start).Round(time.Millisecond))
	return img, nil
}

// pullBackOffShown is how long a failed pull shows as ErrImagePull before
// it turns into ImagePullBackOff (bounded by half the back-off, so the
// change is seen before the next attempt).
func pullBackOffShown(backoff time.Duration) time.Duration {
	return min(backoff/2, time.Second)
}
