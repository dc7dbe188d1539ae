package pods

import (
	"errors"
	"testing"
	"time"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/nodeagent/runtime"
)

func TestPullPolicy(t *testing.T) {
	tests := []struct {
		name   string
		image  string
		policy shoalv1.ImagePullPolicy
		want   runtime.PullPolicy
	}{
		{"explicit always", "app:v1", shoalv1.ImagePullPolicy_IMAGE_PULL_POLICY_ALWAYS, runtime.PullAlways},
		{"explicit never", "app:latest", shoalv1.ImagePullPolicy_IMAGE_PULL_POLICY_NEVER, runtime.PullNever},
		{"explicit if not present", "app", shoalv1.ImagePullPolicy_IMAGE_PULL_POLICY_IF_NOT_PRESENT, runtime.PullIfNotPresent},
		{"unset, tag", "127.0.0.1:5000/app:v1", 0, runtime.PullIfNotPresent},
		{"unset, latest", "app:latest", 0, runtime.PullAlways},
		{"unset, no tag", "127.0.0.1:5000/app", 0, runtime.PullAlways},
		{"unset, digest", "app@sha256:0123", 0, runtime.PullIfNotPresent},
		{"unknown value", "app:v1", 42, runtime.PullIfNotPresent},
		{"empty image", "", 0, runtime.PullAlways},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := pullPolicy(&shoalv1.Container{Image: tc.image, ImagePullPolicy: tc.policy}); got != tc.want {
				t.Errorf("pullPolicy = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestStartErrReason(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"pull", imageErr{reason: waitErrImagePull, error: errors.New("x")}, "ErrImagePull"},
		{"never", imageErr{reason: waitErrImageNeverPull, error: errors.New("x")}, "ErrImageNeverPull"},
		{"other", errors.New("x"), "CreateContainerError"},
	}
	for _, tc := range tests {
		if got := startErrReason(tc.err); got != tc.want {
			t.Errorf("%s: startErrReason = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestPullBackOffShownBeforeRetry(t *testing.T) {
	for _, b := range []time.Duration{500 * time.Millisecond, 10 * time.Second, 5 * time.Minute} {
		if s := pullBackOffShown(b); s <= 0 || s >= b {
			t.Errorf("pullBackOffShown(%v) = %v: ImagePullBackOff would never show", b, s)
		}
	}
}
