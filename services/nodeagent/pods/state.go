package pods

import (
	"context"
	"sync"
	"time"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/nodeagent/podlogs"
	"github.com/shoalmesh/shoal/services/nodeagent/podns"
	"github.com/shoalmesh/shoal/services/nodeagent/runtime"
	"github.com/shoalmesh/shoal/services/nodeagent/volumes"
)

// Container labels: the agent's durable memory.
const (
	LabelPodUID    = "shoal.pod.uid"
	labelNamespace = "shoal.pod.namespace"
	labelName      = "shoal.pod.name"
	labelRole      = "shoal.role"
	labelContainer = "shoal.container.name"
	labelAttempt   = "shoal.container.attempt"
	labelNetNS     = "shoal.sandbox.netns"
	labelIP        = "shoal.sandbox.ip"
	labelCreated   = "shoal.created"

	roleSandbox   = "sandbox"
	roleContainer = "container"
)

// podState is what runs for one pod. mu guards every field that exit
// watchers and probes touch; sync (one worker per key) owns the rest.
type podState struct {
	key, uid, namespace, name string

	mu sync.Mutex
	// up: the sandbox's namespaces and network exist. The pause
	// container's task (sandbox) comes after the first containers', on the
	// next sync; a pod that is up without a live sandbox and without one
	// pending (pause) has lost it.
	up         bool
	sandbox    *runtime.Task
	netnsPath  string
	ns         podns.Paths
	ip         string
	startTime  time.Time
	volumes    volumes.Paths
	containers map[string]*ctrState
	// sandboxLost: the sandbox died and is not recreated because no
	// container would start again; sandbox keeps the dead task.
	sandboxLost bool
	// sandboxErr explains why the sandbox is not up yet.
	sandboxErr string
	// startupObserved: the pod's first Ready went into the startup SLI.
	startupObserved bool

	// Owned by the sync (one at a time per pod), not guarded by mu:
	// prepared holds container starts prepared while the sandbox comes
	// up; pause is the pause container made while the containers are
	// created, whose task startPause creates on the pod's next sync.
	prepared map[string]*prepared
	pause    *pauseStart
}

type ctrState struct {
	name    string
	attempt int
	id      string
	image   string

	task      *runtime.Task
	log       *podlogs.Writer
	startedAt time.Time
	exited    bool
	exit      runtime.Exit
	// lastTerm is the termination of the previous attempt.
	lastTerm *shoalv1.ContainerStateTerminated

	waitReason, waitMsg string
	backoff             time.Duration
	nextStart           time.Time
	// pullBackoff is the image pull back-off; pullFlipAt is when a failed
	// pull's ErrImagePull turns into ImagePullBackOff.
	pullBackoff time.Duration
	pullFlipAt  time.Time

	hasReadiness   bool
	ready          bool
	livenessFailed bool
	// specChanged: the agent stopped the container for a new image; it
	// starts again whatever the restart policy.
	specChanged bool
	stopProbes  context.CancelFunc
	// adopted: the task came from an earlier agent and is not watched yet.
	adopted bool
}

func (c *ctrState) running() bool { return c.task != nil && !c.exited }
