package nodeagentbench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	ctrd "github.com/containerd/containerd/v2/client"
	"github.com/containerd/containerd/v2/pkg/cio"
	"github.com/containerd/containerd/v2/pkg/namespaces"
	"github.com/containerd/containerd/v2/pkg/oci"
	"google.golang.org/grpc"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gateway"
	"github.com/shoalmesh/shoal/services/nodeagent/nodeagenttest"
	"github.com/shoalmesh/shoal/tools/bench/procstat"
	"github.com/shoalmesh/shoal/tools/bench/stats"
)

// Config tunes a run.
type Config struct {
	// Batches are the numbers of pods created at once.
	Batches []int
	// Rounds is how often each batch size is repeated (more samples for
	// small batches).
	Rounds map[int]int
	// IdlePods are kept running while the agent's idle cost is sampled
	// over IdleWindow.
	IdlePods   int
	IdleWindow time.Duration
	// WorkDir holds containerd, images and agent state (default: a
	// temporary directory, removed afterwards).
	WorkDir  string
	Progress io.Writer
}

// NewConfig returns the defaults: 1, 10 and 50 pods; 50 idle pods over 20s.
func NewConfig() Config {
	return Config{Batches: []int{1, 10, 50}, Rounds: map[int]int{1: 20, 10: 3, 50: 2},
		IdlePods: 50, IdleWindow: 20 * time.Second, Progress: io.Discard}
}

// BatchResult is one batch size.
type BatchResult struct {
	Pods     int
	Samples  int
	Shoal    stats.Summary // CreatePod -> Running and Ready seen by watch
	Raw      stats.Summary // containerd create + start of the same image
	P50Ratio float64
}

// Result is a run.
type Result struct {
	Batches       []BatchResult
	IdlePods      int
	IdleRSS       int64 // bytes
	IdleCPU       float64
	IdleCPUTime   time.Duration
	IdleWindow    time.Duration
	RuntimeVer    string
	Load          string
	Started       time.Time
	AgentRSSStart int64
}

// Run builds the images and the agent binary, starts containerd, a gateway
// (in this process) and the agent (its own process), and measures.
func Run(ctx context.Context, cfg Config) (res *Result, err error) {
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	if err := nodeagenttest.Prerequisites(); err != nil {
		return nil, err
	}
	res = &Result{Started: time.Now(), IdlePods: cfg.IdlePods, IdleWindow: cfg.IdleWindow, Load: loadAvg()}
	dir := cfg.WorkDir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "shoal-nodeagentbench-"); err != nil {
			return nil, err
		}
		defer os.RemoveAll(dir)
	}
	p := func(format string, args ...any) { fmt.Fprintf(cfg.Progress, format+"\n", args...) }
	p("building images and the agent")
	binDir, imageDir := filepath.Join(dir, "bin"), filepath.Join(dir, "images")
	if err := nodeagenttest.BuildImages(ctx, binDir, imageDir); err != nil {
		return nil, err
	}
	agentBin, err := nodeagenttest.BuildBinary(ctx, binDir, "./services/nodeagent", "nodeagent")
	if err != nil {
		return nil, err
	}
	cd, err := nodeagenttest.StartContainerd(ctx, filepath.Join(dir, "containerd"))
	if err != nil {
		return nil, err
	}
	defer cd.Stop()
	suffix := strconv.Itoa(os.Getpid() % 100000)
	ns := "shoal-bench-" + suffix
	defer cd.Purge(context.Background(), ns)
	defer cd.Purge(context.Background(), ns+"-raw")

	obs, err := observability.Setup(ctx, observability.NewConfig("nodeagentbench"), io.Discard)
	if err != nil {
		return nil, err
	}
	defer obs.Shutdown(context.Background())
	gcfg, err := gateway.LoopbackConfig(filepath.Join(dir, "etcd"))
	if err != nil {
		return nil, err
	}
	gw, err := gateway.Start(ctx, gcfg, obs)
	if err != nil {
		return nil, err
	}
	defer gw.Close()
	conn, err := client.Dial(ctx, gw.Addr())
	if err != nil {
		return nil, err
	}
	defer conn.Close()

	node := "bench-node-" + suffix
	bridge := "shb" + suffix
	agentLog, err := os.Create(filepath.Join(dir, "agent.log"))
	if err != nil {
		return nil, err
	}
	defer agentLog.Close()
	cmd := exec.Command(agentBin, "--gateway", gw.Addr(), "--node-name", node, "--node-ip", "127.0.0.1",
		"--containerd-address", cd.Address, "--containerd-namespace", ns, "--image-dir", imageDir,
		"--pause-image", nodeagenttest.PauseImage, "--pod-cidr", "10.250."+strconv.Itoa(os.Getpid()%250)+".0/24",
		"--bridge-name", bridge, "--state-dir", filepath.Join(dir, "state"), "--log-dir", filepath.Join(dir, "logs"),
		"--listen", "127.0.0.1:0", "--metrics-addr", "", "--delete-bridge-on-exit", "--log-level", "warn")
	cmd.Stdout, cmd.Stderr = agentLog, agentLog
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	pods := client.For[*shoalv1.Pod](conn)
	netnsDir := filepath.Join(dir, "state", "network", "netns")
	deleteAll := func(ctx context.Context, pods *client.Resource[*shoalv1.Pod]) error {
		if err := deleteAllPods(ctx, pods); err != nil {
			return err
		}
		// Grace 0 removes the objects at once; wait for the agent's teardown.
		deadline := time.Now().Add(3 * time.Minute)
		for time.Now().Before(deadline) {
			if es, err := os.ReadDir(netnsDir); err == nil && len(es) == 0 {
				return nil
			}
			time.Sleep(50 * time.Millisecond)
		}
		return errors.New("nodeagentbench: the agent did not tear the pods down in time")
	}
	if err := waitNode(ctx, conn, node); err != nil {
		return nil, err
	}
	raw, err := newRaw(ctx, cd.Address, ns+"-raw", imageDir)
	if err != nil {
		return nil, err
	}
	defer raw.close()
	if res.RuntimeVer, err = raw.version(ctx); err != nil {
		return nil, err
	}
	// Warm up: the first pod imports and unpacks the images.
	if _, err := startPods(ctx, pods, node, "warm", 1); err != nil {
		return nil, err
	}
	if err := deleteAll(ctx, pods); err != nil {
		return nil, err
	}
	if _, err := raw.run(ctx, "warm", 1); err != nil {
		return nil, err
	}
	res.AgentRSSStart, _ = procstat.RSS(cmd.Process.Pid)
	for _, n := range cfg.Batches {
		rounds := max(cfg.Rounds[n], 1)
		var shoal, floor []time.Duration
		for r := 0; r < rounds; r++ {
			p("batch of %d pods, round %d/%d", n, r+1, rounds)
			lat, err := startPods(ctx, pods, node, fmt.Sprintf("b%d-r%d", n, r), n)
			if err != nil {
				return nil, err
			}
			shoal = append(shoal, lat...)
			if err := deleteAll(ctx, pods); err != nil {
				return nil, err
			}
			rl, err := raw.run(ctx, fmt.Sprintf("b%d-r%d", n, r), n)
			if err != nil {
				return nil, err
			}
			floor = append(floor, rl...)
		}
		b := BatchResult{Pods: n, Samples: len(shoal), Shoal: stats.Summarize(shoal), Raw: stats.Summarize(floor)}
		b.P50Ratio = stats.Ratio(float64(b.Shoal.P50), float64(b.Raw.P50))
		res.Batches = append(res.Batches, b)
	}
	if cfg.IdlePods > 0 {
		p("idle cost with %d pods over %v", cfg.IdlePods, cfg.IdleWindow)
		if _, err := startPods(ctx, pods, node, "idle", cfg.IdlePods); err != nil {
			return nil, err
		}
		time.Sleep(2 * time.Second)
		t0 := time.Now()
		c0, _ := procstat.CPU(cmd.Process.Pid)
		time.Sleep(cfg.IdleWindow)
		c1, _ := procstat.CPU(cmd.Process.Pid)
		t1 := time.Now()
		res.IdleCPU = (c1 - c0).Seconds() / t1.Sub(t0).Seconds()
		res.IdleCPUTime = c1 - c0
		res.IdleRSS, _ = procstat.RSS(cmd.Process.Pid)
		if err := deleteAll(ctx, pods); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func waitNode(ctx context.Context, conn grpc.ClientConnInterface, node string) error {
	nodes := client.For[*shoalv1.Node](conn)
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		if _, err := nodes.Get(ctx, "", node); err == nil {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("nodeagentbench: the agent never registered its node (see agent.log)")
}

func benchPod(node, name string) *shoalv1.Pod {
	grace := int64(0)
	return &shoalv1.Pod{Metadata: &shoalv1.ObjectMeta{Namespace: "default", Name: name},
		Spec: &shoalv1.PodSpec{NodeName: node, TerminationGracePeriodSeconds: &grace,
			Containers: []*shoalv1.Container{{Name: "app", Image: nodeagenttest.BusyboxImage, Command: []string{"sleep", "100000"}}}}}
}

// startPods creates n pods at once and returns, per pod, the time from
// just before its CreatePod to the watch event showing it Running and
// Ready.
func startPods(ctx context.Context, pods *client.Resource[*shoalv1.Pod], node, prefix string, n int) ([]time.Duration, error) {
	wctx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	list, err := pods.List(wctx, client.ListOptions{Namespace: "default"})
	if err != nil {
		return nil, err
	}
	w, err := pods.Watch(wctx, client.WatchOptions{Namespace: "default", ResourceVersion: list.ResourceVersion})
	if err != nil {
		return nil, err
	}
	defer w.Close()
	var mu sync.Mutex
	started := map[string]time.Time{}
	var wg sync.WaitGroup
	errc := make(chan error, n)
	for i := 0; i < n; i++ {
		name := fmt.Sprintf("%s-%03d", prefix, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			mu.Lock()
			started[name] = time.Now()
			mu.Unlock()
			if _, err := pods.Create(wctx, benchPod(node, name)); err != nil {
				errc <- err
			}
		}()
	}
	var lat []time.Duration
	seen := map[string]bool{}
	for len(seen) < n {
		ev, err := w.Recv()
		if err != nil {
			return nil, fmt.Errorf("nodeagentbench: watch: %w (%d of %d pods ready)", err, len(seen), n)
		}
		at := time.Now()
		p := ev.Object
		name := p.GetMetadata().GetName()
		mu.Lock()
		t0, ours := started[name]
		mu.Unlock()
		if !ours || seen[name] || !runningReady(p) {
			continue
		}
		seen[name] = true
		lat = append(lat, at.Sub(t0))
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		return nil, err
	}
	return lat, nil
}

func runningReady(p *shoalv1.Pod) bool {
	if p.GetStatus().GetPhase() != shoalv1.PodPhase_POD_PHASE_RUNNING {
		return false
	}
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus() == shoalv1.ConditionStatus_CONDITION_STATUS_TRUE
		}
	}
	return false
}

func deleteAllPods(ctx context.Context, pods *client.Resource[*shoalv1.Pod]) error {
	list, err := pods.List(ctx, client.ListOptions{Namespace: "default"})
	if err != nil {
		return err
	}
	zero := int64(0)
	for _, p := range list.Items {
		if _, err := pods.Delete(ctx, "default", p.GetMetadata().GetName(), client.DeleteOptions{GracePeriodSeconds: &zero}); err != nil && !client.IsNotFound(err) {
			return err
		}
	}
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		l, err := pods.List(ctx, client.ListOptions{Namespace: "default"})
		if err == nil && len(l.Items) == 0 {
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return errors.New("nodeagentbench: pods were not deleted in time")
}

// raw measures containerd alone: create (snapshot + spec) and start of the
// same image and command, n at once.
type raw struct {
	c   *ctrd.Client
	ns  string
	img ctrd.Image
}

func newRaw(ctx context.Context, addr, ns, imageDir string) (*raw, error) {
	c, err := ctrd.New(addr, ctrd.WithDefaultNamespace(ns))
	if err != nil {
		return nil, err
	}
	ctx = namespaces.WithNamespace(ctx, ns)
	f, err := os.Open(filepath.Join(imageDir, "busybox.tar"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if _, err := c.Import(ctx, f); err != nil {
		return nil, err
	}
	img, err := c.GetImage(ctx, nodeagenttest.BusyboxImage)
	if err != nil {
		return nil, err
	}
	if err := img.Unpack(ctx, "overlayfs"); err != nil {
		return nil, err
	}
	return &raw{c: c, ns: ns, img: img}, nil
}

func (r *raw) version(ctx context.Context) (string, error) {
	v, err := r.c.Version(ctx)
	return v.Version, err
}

func (r *raw) close() { r.c.Close() }

func (r *raw) run(ctx context.Context, prefix string, n int) ([]time.Duration, error) {
	ctx = namespaces.WithNamespace(ctx, r.ns)
	lat := make([]time.Duration, n)
	tasks := make([]ctrd.Task, n)
	ctrs := make([]ctrd.Container, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			id := fmt.Sprintf("raw-%s-%d", prefix, i)
			t0 := time.Now()
			c, err := r.c.NewContainer(ctx, id, ctrd.WithImage(r.img), ctrd.WithSnapshotter("overlayfs"),
				ctrd.WithNewSnapshot(id, r.img), ctrd.WithNewSpec(oci.WithImageConfig(r.img), oci.WithProcessArgs("sleep", "100000")))
			if err != nil {
				errs[i] = err
				return
			}
			ctrs[i] = c
			t, err := c.NewTask(ctx, cio.NullIO)
			if err != nil {
				errs[i] = err
				return
			}
			tasks[i] = t
			if err := t.Start(ctx); err != nil {
				errs[i] = err
				return
			}
			lat[i] = time.Since(t0)
		}(i)
	}
	wg.Wait()
	for i := 0; i < n; i++ {
		if tasks[i] != nil {
			_, _ = tasks[i].Delete(ctx, ctrd.WithProcessKill)
		}
		if ctrs[i] != nil {
			_ = ctrs[i].Delete(ctx, ctrd.WithSnapshotCleanup)
		}
	}
	return lat, errors.Join(errs...)
}

func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
