package xdsbench

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/stats"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/internal/freeport"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/services/apigateway/gateway"
	"github.com/shoalmesh/shoal/services/xds/server"
	"github.com/shoalmesh/shoal/tools/bench/procstat"
	"github.com/shoalmesh/shoal/tools/greeter/greeter"
)

// Config says what to measure.
type Config struct {
	// Streams is the number of proxyless clients (ADS streams).
	Streams int
	// Changes is the number of endpoint flips measured per server.
	Changes int
	// Debounce is the xds service's --debounce; the changes are more than
	// a second apart, so each is pushed at once whatever its value.
	Debounce time.Duration
	// XDSBin and BareBin are the binaries; empty builds them with go build
	// (from the module root, the working directory).
	XDSBin, BareBin string
	// Timeout bounds each wait (clients ready, one change converging).
	Timeout time.Duration
	// ClientProcs is the number of processes each server's clients are
	// split into (evenly, by consecutive node ids); both servers get the
	// same number. See ClientsCommand for why they are processes.
	ClientProcs int
	// ClientMaxProcs, when positive, is each client process's GOMAXPROCS,
	// as a pod with that CPU limit gets from Go's container-aware default;
	// 0 leaves Go's default, every core of the machine. The default, 1,
	// keeps 2*ClientProcs client processes from running twice as many
	// scheduler threads as the machine has cores against the servers.
	ClientMaxProcs int
	// ClientExe is the executable started as a client process, with
	// ClientsCommand as its first argument; empty is this executable.
	ClientExe string
	// ProfileDir, when set, receives profiles of the change phase:
	// bare.cpu.pprof, bare.allocs.pprof, xds.cpu.pprof and xds.allocs.pprof
	// from the servers (their /debug/pprof/), clients-SIDE-J.cpu.pprof,
	// clients-SIDE-J.allocs.pprof and clients-SIDE-J.allocs.pprof.start
	// from the client processes (SIDE = bare or xds, J = 0 ...
	// ClientProcs-1; the allocations of the phase are the difference of
	// the last two, `go tool pprof -base`), and bench.cpu.pprof from this
	// process (backends, gateway).
	ProfileDir string
}

// NewConfig returns the defaults: 1,000 streams in 8 processes per
// server with GOMAXPROCS=1 each, 5 changes, the xds service's default
// debounce.
func NewConfig() Config {
	return Config{Streams: 1000, Changes: 5, Debounce: server.NewConfig().Debounce, Timeout: 3 * time.Minute, ClientProcs: 8, ClientMaxProcs: 1}
}

// Result is one run.
type Result struct {
	Config Config
	Start  time.Time
	Bare   ServerResult
	XDS    ServerResult
}

// ServerResult is what one server did.
type ServerResult struct {
	Name string
	// Ack and Client latencies over every stream and change; Push is
	// when the server handed the acknowledged response to gRPC (so
	// Ack - Push is the client's and the network's share).
	Ack, Client, Push []time.Duration
	RSS               int64
	CPUPerChange      time.Duration
}

type backend struct {
	addr string
	mu   sync.Mutex
	conn []time.Time
}

func (b *backend) TagRPC(ctx context.Context, _ *stats.RPCTagInfo) context.Context   { return ctx }
func (b *backend) HandleRPC(context.Context, stats.RPCStats)                         {}
func (b *backend) TagConn(ctx context.Context, _ *stats.ConnTagInfo) context.Context { return ctx }
func (b *backend) HandleConn(_ context.Context, s stats.ConnStats) {
	if _, ok := s.(*stats.ConnBegin); ok {
		b.mu.Lock()
		b.conn = append(b.conn, time.Now())
		b.mu.Unlock()
	}
}

// connsSince are the connection start delays after t0.
func (b *backend) connsSince(t0 time.Time) []time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []time.Duration
	for _, c := range b.conn {
		if !c.Before(t0) {
			out = append(out, c.Sub(t0))
		}
	}
	return out
}

// Run measures; progress goes to logw.
func Run(ctx context.Context, cfg Config, logw io.Writer) (_ *Result, err error) {
	logf := func(f string, a ...any) { fmt.Fprintf(logw, "xdsbench: "+f+"\n", a...) }
	if cfg.ClientMaxProcs < 0 {
		return nil, fmt.Errorf("xdsbench: client GOMAXPROCS %d: want 0 (Go's default) or more", cfg.ClientMaxProcs)
	}
	if cfg.Streams < 1 || cfg.ClientProcs < 1 || cfg.ClientProcs > cfg.Streams {
		return nil, fmt.Errorf("xdsbench: %d client processes for %d streams: want 1 to %d", cfg.ClientProcs, cfg.Streams, cfg.Streams)
	}
	res := &Result{Config: cfg, Start: time.Now()}
	tmp, err := os.MkdirTemp("", "xdsbench")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if cfg.XDSBin == "" || cfg.BareBin == "" {
		logf("building xds and barexds")
		out, err := exec.CommandContext(ctx, "go", "build", "-o", tmp+"/", "./services/xds", "./tools/bench/xdsbench/barexds").CombinedOutput()
		if err != nil {
			return nil, fmt.Errorf("go build: %v\n%s", err, out)
		}
		cfg.XDSBin, cfg.BareBin = filepath.Join(tmp, "xds"), filepath.Join(tmp, "barexds")
	}

	obs, err := observability.Setup(ctx, observability.NewConfig("xdsbench"), io.Discard)
	if err != nil {
		return nil, err
	}
	defer obs.Shutdown(context.Background())
	gcfg, err := gateway.LoopbackConfig(filepath.Join(tmp, "etcd"))
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

	// Backends A and B on one port.
	a, b, port, stop, err := startBackends()
	if err != nil {
		return nil, err
	}
	defer stop()
	svcs, epsc := client.For[*shoalv1.Service](conn), client.For[*shoalv1.Endpoints](conn)
	if _, err := svcs.Create(ctx, &shoalv1.Service{
		Metadata: &shoalv1.ObjectMeta{Namespace: "default", Name: "greeter"},
		Spec:     &shoalv1.ServiceSpec{Ports: []*shoalv1.ServicePort{{Name: "grpc", Port: 50051, Protocol: shoalv1.ServiceProtocol_SERVICE_PROTOCOL_GRPC}}},
	}); err != nil {
		return nil, err
	}
	setEndpoints := func(be *backend) error {
		host, _, _ := net.SplitHostPort(be.addr)
		spec := &shoalv1.EndpointsSpec{
			Addresses: []*shoalv1.EndpointAddress{{Ip: host, Ready: true, NodeName: "node-0"}},
			Ports:     []*shoalv1.EndpointPort{{Name: "grpc", Port: port}},
		}
		cur, err := epsc.Get(ctx, "default", "greeter")
		if client.IsNotFound(err) {
			_, err = epsc.Create(ctx, &shoalv1.Endpoints{Metadata: &shoalv1.ObjectMeta{Namespace: "default", Name: "greeter"}, Spec: spec})
			return err
		} else if err != nil {
			return err
		}
		cur.Spec = spec
		_, err = epsc.Update(ctx, cur)
		return err
	}
	if err := setEndpoints(a); err != nil {
		return nil, err
	}

	// Both servers run side by side, each with its own clients; their
	// changes alternate (bare, xds, bare, ...) so that a change of the
	// machine's load during the run hits both alike.
	res.Bare.Name = "bare go-control-plane (snapshot cache)"
	bare := exec.CommandContext(ctx, cfg.BareBin, "--addr", a.addr)
	bare.Stderr = logw
	out, _ := bare.StdoutPipe()
	if err := bare.Start(); err != nil {
		return nil, err
	}
	defer func() { bare.Process.Kill(); bare.Wait() }()
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("barexds: %w", err)
	}
	var bareADS, bareAdmin string
	fmt.Sscanf(strings.TrimSpace(line), "barexds listen=%s admin=%s", &bareADS, &bareAdmin)

	res.XDS.Name = "Shoal xds (LinearCache per type)"
	xp, err := freeport.Ports(2)
	if err != nil {
		return nil, err
	}
	xADS, xAdmin := fmt.Sprintf("127.0.0.1:%d", xp[0]), fmt.Sprintf("127.0.0.1:%d", xp[1])
	xargs := []string{"--gateway", gw.Addr(), "--listen", xADS, "--admin-addr", xAdmin, "--debounce", cfg.Debounce.String(), "--log-level", "warn"}
	if cfg.ProfileDir != "" {
		xargs = append(xargs, "--enable-pprof")
	}
	xcmd := exec.CommandContext(ctx, cfg.XDSBin, xargs...)
	xcmd.Stderr = logw
	if err := xcmd.Start(); err != nil {
		return nil, err
	}
	defer func() { xcmd.Process.Kill(); xcmd.Wait() }()
	if err := waitHTTP(ctx, "http://"+xAdmin+"/healthz", cfg.Timeout); err != nil {
		return nil, fmt.Errorf("xds: %w", err)
	}

	sides := []*side{
		{sr: &res.Bare, short: "bare", pid: bare.Process.Pid, ads: bareADS, admin: bareAdmin, change: func(be *backend) error {
			resp, err := http.Post("http://"+bareAdmin+"/set?addr="+be.addr, "", nil)
			if err != nil {
				return err
			}
			resp.Body.Close()
			return nil
		}},
		{sr: &res.XDS, short: "xds", pid: xcmd.Process.Pid, ads: xADS, admin: xAdmin, change: setEndpoints},
	}
	for _, sd := range sides {
		// Every client process stops on every way out; one that fails to
		// exit cleanly fails a run that otherwise succeeded.
		defer func() {
			if cerr := stopClients(sd.procs); err == nil && cerr != nil {
				err = fmt.Errorf("%s: %w", sd.short, cerr)
			}
		}()
		if err := sd.connect(ctx, cfg, logw, logf); err != nil {
			return nil, fmt.Errorf("%s: %w", sd.short, err)
		}
	}
	// The CPU of the benchmark's own processes: this one (backends,
	// gateway) and every client process.
	benchCPU := func() time.Duration {
		self, _ := procstat.CPU(os.Getpid())
		for _, sd := range sides {
			self += clientsCPU(sd.procs)
		}
		return self
	}
	if cfg.ProfileDir != "" {
		stop, err := profile(ctx, cfg.ProfileDir, sides, time.Duration(cfg.Changes)*6*time.Second)
		if err != nil {
			return nil, err
		}
		defer stop()
	}
	for _, sd := range sides {
		sd.start()
	}
	cur, next := a, b
	for i := range cfg.Changes {
		for _, sd := range sides {
			if err := sd.flip(ctx, cfg, logf, benchCPU, i, next); err != nil {
				return nil, fmt.Errorf("%s: %w", sd.short, err)
			}
		}
		cur, next = next, cur
	}
	for _, sd := range sides {
		sd.finish(cfg, logf)
	}
	return res, nil
}

// side is one server under test and its clients.
type side struct {
	sr         *ServerResult
	short      string
	pid        int
	ads, admin string
	change     func(*backend) error

	procs []*clientProc
	// CPU and syscalls of the server from start; the server's CPU in the
	// pauses; the benchmark's processes' (this one and every client
	// process) and this server's client processes' during its changes.
	cpu0, paused, bench, clients time.Duration
	r0, w0                       int64
}

// connect starts the client processes, waits until every client made its
// call and the server saw all of them ACK; then records the server's RSS.
func (sd *side) connect(ctx context.Context, cfg Config, logw io.Writer, logf func(string, ...any)) error {
	logf("%s: connecting %d clients in %d processes", sd.sr.Name, cfg.Streams, cfg.ClientProcs)
	var err error
	if sd.procs, err = startClients(ctx, cfg, sd, logw); err != nil {
		return err
	}
	if err := waitCount(ctx, sd.admin, 0, cfg.Streams, cfg.Timeout); err != nil {
		return fmt.Errorf("initial acks: %w", err)
	}
	if sd.sr.RSS, _ = procstat.RSS(sd.pid); sd.sr.RSS == 0 {
		logf("no RSS for pid %d", sd.pid)
	}
	return nil
}

func (sd *side) start() {
	sd.cpu0, _ = procstat.CPU(sd.pid)
	sd.r0, sd.w0, _ = processSyscalls(sd.pid)
}

// flip pauses 1 s, moves the server's endpoint set to next and records
// when every stream got, ACKed and used it.
func (sd *side) flip(ctx context.Context, cfg Config, logf func(string, ...any), benchCPU func() time.Duration, i int, next *backend) error {
	sr := sd.sr
	p0, _ := procstat.CPU(sd.pid)
	time.Sleep(time.Second) // let keepalives and GC settle between changes
	p1, _ := procstat.CPU(sd.pid)
	sd.paused += p1 - p0
	bench0, clients0 := benchCPU(), clientsCPU(sd.procs)
	defer func() {
		sd.bench += benchCPU() - bench0
		sd.clients += clientsCPU(sd.procs) - clients0
	}()
	t0 := time.Now()
	if err := sd.change(next); err != nil {
		return err
	}
	if err := waitCount(ctx, sd.admin, t0.UnixNano(), cfg.Streams, cfg.Timeout); err != nil {
		return fmt.Errorf("change %d acks: %w", i, err)
	}
	acks, err := fetchAcks(sd.admin, t0.UnixNano())
	if err != nil {
		return err
	}
	nAck, nPush := len(sr.Ack), len(sr.Push)
	for _, ak := range acks {
		sr.Ack = append(sr.Ack, ak.At.Sub(t0))
		if !ak.Sent.IsZero() {
			sr.Push = append(sr.Push, ak.Sent.Sub(t0))
		}
	}
	deadline := time.Now().Add(cfg.Timeout)
	for len(next.connsSince(t0)) < cfg.Streams {
		if time.Now().After(deadline) {
			return fmt.Errorf("change %d: only %d of %d clients connected to the new backend", i, len(next.connsSince(t0)), cfg.Streams)
		}
		time.Sleep(10 * time.Millisecond)
	}
	nClient := len(sr.Client)
	sr.Client = append(sr.Client, next.connsSince(t0)[:cfg.Streams]...)
	logf("%s: change %d converged: push max %v, ack p99 %v, client p99 %v", sr.Name, i+1,
		pct(sr.Push[nPush:], 100), pct(sr.Ack[nAck:], 99), pct(sr.Client[nClient:], 99))
	return nil
}

// finish computes the server's CPU per change and logs its syscalls.
func (sd *side) finish(cfg Config, logf func(string, ...any)) {
	if cfg.Changes == 0 {
		return
	}
	n := time.Duration(cfg.Changes)
	cpu1, _ := procstat.CPU(sd.pid)
	// Includes the server's share of the pauses (its own and the other
	// server's changes, when it idles) and of the /debug/acks requests: an
	// upper bound on the cost of one change.
	sd.sr.CPUPerChange = (cpu1 - sd.cpu0) / n
	if r1, w1, err := processSyscalls(sd.pid); err == nil {
		logf("%s: %d read and %d write syscalls per change; CPU per change %v, of which %v in its 1 s pauses; the benchmark's processes (clients of both servers, backends, gateway) %v per change, of which its own clients %v",
			sd.sr.Name, (r1-sd.r0)/int64(n), (w1-sd.w0)/int64(n), sd.sr.CPUPerChange, sd.paused/n, sd.bench/n, sd.clients/n)
	}
}

// profile records this process's CPU profile (backends, gateway) until
// stop, each server's CPU and allocation profiles for d (the change phase,
// roughly), and has every client process start its CPU profile, which it
// writes when it exits.
func profile(ctx context.Context, dir string, sides []*side, d time.Duration) (stop func(), err error) {
	for _, sd := range sides {
		if err := startProfiles(sd.procs); err != nil {
			return nil, err
		}
	}
	f, err := os.Create(filepath.Join(dir, "bench.cpu.pprof"))
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	var wg sync.WaitGroup
	for _, sd := range sides {
		for name, file := range map[string]string{"profile": sd.short + ".cpu.pprof", "allocs": sd.short + ".allocs.pprof"} {
			wg.Go(func() {
				req, err := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://%s/debug/pprof/%s?seconds=%d", sd.admin, name, int(d.Seconds())), nil)
				if err != nil {
					return
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return
				}
				defer resp.Body.Close()
				if out, err := os.Create(filepath.Join(dir, file)); err == nil {
					_, _ = io.Copy(out, resp.Body)
					out.Close()
				}
			})
		}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
		wg.Wait()
	}, nil
}

// waitCount waits until want streams have ACKed EDS at or after after
// (unix nanoseconds). It asks the server to answer once they have
// (?wait=), one request per change instead of a poll every 25 ms that
// cost each server about a tenth of its CPU per change; the ACK times
// come from the server either way. A server that does not wait (an older
// binary) answers at once and is polled.
func waitCount(ctx context.Context, admin string, after int64, want int, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		left := time.Until(deadline)
		url := fmt.Sprintf("http://%s/debug/acks?type=EDS&count=1&after=%d&wait=%d&timeout=%s", admin, after, want, max(left, 0))
		req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			var c struct{ Count int }
			err = json.NewDecoder(resp.Body).Decode(&c)
			_, _ = io.Copy(io.Discard, resp.Body) // to EOF, so the connection is reused
			resp.Body.Close()
			if err == nil && c.Count >= want {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("waited %v for %d acks", timeout, want)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(25 * time.Millisecond):
		}
	}
}

func fetchAcks(admin string, after int64) ([]server.Ack, error) {
	resp, err := http.Get(fmt.Sprintf("http://%s/debug/acks?type=EDS&after=%d", admin, after))
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var out []server.Ack
	err = json.NewDecoder(resp.Body).Decode(&out)
	_, _ = io.Copy(io.Discard, resp.Body)
	return out, err
}

func waitHTTP(ctx context.Context, url string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		resp, err := http.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not up after %v", url, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func startBackends() (a, b *backend, port int32, stop func(), err error) {
	for range 20 {
		la, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, 0, nil, err
		}
		p := la.Addr().(*net.TCPAddr).Port
		lb, err := net.Listen("tcp", fmt.Sprintf("127.0.0.2:%d", p))
		if err != nil {
			la.Close()
			continue
		}
		a, b = &backend{addr: la.Addr().String()}, &backend{addr: lb.Addr().String()}
		sa, _ := greeter.NewServer("A", grpc.StatsHandler(a))
		sb, _ := greeter.NewServer("B", grpc.StatsHandler(b))
		go sa.Serve(la)
		go sb.Serve(lb)
		return a, b, int32(p), func() { sa.Stop(); sb.Stop() }, nil
	}
	return nil, nil, 0, nil, errors.New("xdsbench: no port free on 127.0.0.1 and 127.0.0.2")
}

// pct is the p-th percentile (nearest rank).
func pct(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(i, len(s)-1))]
}

// processSyscalls is the number of read and write system calls of pid
// (/proc/pid/io: syscr, syscw).
func processSyscalls(pid int) (reads, writes int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		n, _ := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		switch k {
		case "syscr":
			reads = n
		case "syscw":
			writes = n
		}
	}
	return reads, writes, nil
}
