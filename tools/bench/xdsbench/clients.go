package xdsbench

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/xds"

	"github.com/shoalmesh/shoal/services/xds/bootstrap"
	"github.com/shoalmesh/shoal/services/xds/resources"
	"github.com/shoalmesh/shoal/tools/bench/procstat"
	"github.com/shoalmesh/shoal/tools/greeter/greeter"
)

// ClientsCommand is the first argument with which Run starts its client
// processes (`<exe> xds-clients --ads ... --side ...`), so the executable
// that calls Run must hand such an invocation to ClientsMain: the bench
// command does, and so does this package's TestMain.
//
// The clients live in processes of their own because in production every
// proxyless client is its own process with its own heap and garbage
// collector; 2,000 clients sharing the benchmark's heap (~260 MB live) paid
// for one ~1 CPU-s collection every second or third change, which no real
// client pays.
const ClientsCommand = "xds-clients"

// clientsReady is the line a client process prints on stdout once every
// one of its clients has completed its first call.
const clientsReady = "xds-clients ready"

// clientsProfileStart, written to a client process's stdin, starts its CPU
// profile (the change phase begins); closing stdin ends the process.
const clientsProfileStart = "profile"

// ClientsMain is a client process: it opens --count proxyless clients of
// the server at --ads, with the node ids bench-SIDE-FIRST ...
// bench-SIDE-(FIRST+COUNT-1), makes one greeter call on each, prints
// "xds-clients ready", and keeps them until stdin closes or ctx ends (the
// caller cancels it on SIGTERM). With --cpuprofile it profiles from the
// moment stdin says "profile" until then; with --allocprofile it writes
// the allocation profile at both moments (FILE.start and FILE), for
// `go tool pprof -base FILE.start FILE`.
func ClientsMain(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer) (err error) {
	fs := flag.NewFlagSet(ClientsCommand, flag.ContinueOnError)
	ads := fs.String("ads", "", "the xDS server's ADS address")
	side := fs.String("side", "", "which server (bare or xds), for the node ids")
	first := fs.Int("first", 0, "index of the first client, for the node ids")
	count := fs.Int("count", 1, "clients in this process")
	timeout := fs.Duration("timeout", time.Minute, "bound of each client's first call")
	profile := fs.String("cpuprofile", "", "write a CPU profile here, from \"profile\" on stdin until stdin closes")
	allocs := fs.String("allocprofile", "", "write the allocation profile to FILE.start on \"profile\" on stdin and to FILE when stdin closes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ads == "" || *side == "" || *count < 1 {
		return errors.New("xds-clients: --ads, --side and a positive --count are required")
	}
	conns, err := openClients(ctx, *ads, *side, *first, *count, *timeout)
	defer func() {
		for _, c := range conns {
			if c != nil {
				c.Close()
			}
		}
	}()
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(stdout, clientsReady); err != nil {
		return err
	}

	// The parent's commands arrive as lines on stdin; EOF (the parent
	// closed it, or died) ends the process. The reader goroutine may stay
	// blocked in a read when ctx ends first; the process is exiting then.
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			select {
			case lines <- sc.Text():
			case <-ctx.Done():
				return
			}
		}
	}()
	var prof *os.File
	profiling := false
	defer func() {
		if prof != nil {
			pprof.StopCPUProfile()
			prof.Close()
		}
		if profiling && *allocs != "" {
			if werr := writeAllocs(*allocs); err == nil {
				err = werr
			}
		}
	}()
	for {
		select {
		case <-ctx.Done():
			return nil
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			if line != clientsProfileStart || profiling {
				continue
			}
			profiling = true
			if *allocs != "" {
				if err := writeAllocs(*allocs + ".start"); err != nil {
					return err
				}
			}
			if *profile != "" {
				f, err := os.Create(*profile)
				if err != nil {
					return err
				}
				if err := pprof.StartCPUProfile(f); err != nil {
					f.Close()
					return err
				}
				prof = f
			}
		}
	}
}

// writeAllocs writes the allocation profile (cumulative since the process
// started; a collection first makes it current) to path.
func writeAllocs(path string) error {
	runtime.GC()
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// openClients opens count clients of the server at ads (each its own
// ClientConn with its own xDS client, ADS stream and node id) and makes one
// call on each, 64 at a time. It returns the connections opened so far
// even on error, for the caller to close.
func openClients(ctx context.Context, ads, side string, first, count int, timeout time.Duration) ([]*grpc.ClientConn, error) {
	conns := make([]*grpc.ClientConn, count)
	target := "xds:///" + resources.ListenerName("greeter", "default", resources.DefaultClusterDomain, 50051)
	errs := make(chan error, count)
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	for j := range conns {
		i := first + j
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			id := bootstrap.NodeID(bootstrap.Proxyless, "10.0.0.1", fmt.Sprintf("bench-%s-%d", side, i), "default", "")
			bs, err := bootstrap.GRPC(ads, id, bootstrap.Options{})
			if err != nil {
				errs <- err
				return
			}
			r, err := xds.NewXDSResolverWithConfigForTesting(bs)
			if err != nil {
				errs <- err
				return
			}
			c, err := grpc.NewClient(target, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithResolvers(r))
			if err != nil {
				errs <- err
				return
			}
			conns[j] = c
			cctx, cancel := context.WithTimeout(ctx, timeout)
			defer cancel()
			if _, err := greeter.Call(cctx, c, "", ""); err != nil {
				errs <- fmt.Errorf("client %d: %w", i, err)
			}
		})
	}
	wg.Wait()
	close(errs)
	return conns, <-errs
}

// split divides n clients into k runs of consecutive indexes whose sizes
// differ by at most one: run j is [first[j], first[j]+count[j]).
func split(n, k int) (first, count []int) {
	for j := range k {
		lo, hi := j*n/k, (j+1)*n/k
		first, count = append(first, lo), append(count, hi-lo)
	}
	return first, count
}

// clientProc is one client process the benchmark started.
type clientProc struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	// ready receives the outcome of waiting for the ready line.
	ready chan error
	name  string
}

// startClients starts cfg.ClientProcs client processes of sd's server,
// together holding cfg.Streams clients, and waits until all are ready. The
// processes it returns (even with an error) must be stopped with
// stopClients.
func startClients(ctx context.Context, cfg Config, sd *side, logw io.Writer) ([]*clientProc, error) {
	exe := cfg.ClientExe
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	firsts, counts := split(cfg.Streams, cfg.ClientProcs)
	var procs []*clientProc
	for j := range firsts {
		if counts[j] == 0 {
			continue
		}
		name := fmt.Sprintf("%s-%d", sd.short, j)
		args := []string{ClientsCommand, "--ads", sd.ads, "--side", sd.short,
			"--first", strconv.Itoa(firsts[j]), "--count", strconv.Itoa(counts[j]), "--timeout", cfg.Timeout.String()}
		if cfg.ProfileDir != "" {
			args = append(args, "--cpuprofile", filepath.Join(cfg.ProfileDir, "clients-"+name+".cpu.pprof"),
				"--allocprofile", filepath.Join(cfg.ProfileDir, "clients-"+name+".allocs.pprof"))
		}
		cmd := exec.CommandContext(ctx, exe, args...)
		// When ctx ends the process gets SIGTERM, to exit as it does when
		// its stdin closes, and SIGKILL 10 s later if it has not.
		cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
		cmd.WaitDelay = 10 * time.Second
		cmd.Stderr = logw
		if cfg.ClientMaxProcs > 0 {
			cmd.Env = append(os.Environ(), "GOMAXPROCS="+strconv.Itoa(cfg.ClientMaxProcs))
		}
		stdin, err := cmd.StdinPipe()
		if err != nil {
			return procs, err
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			return procs, err
		}
		if err := cmd.Start(); err != nil {
			return procs, fmt.Errorf("client process %s: %w", name, err)
		}
		p := &clientProc{cmd: cmd, stdin: stdin, ready: make(chan error, 1), name: name}
		procs = append(procs, p)
		go func() {
			// Reads one line; a process that exits before printing it
			// gives EOF here. Wait closes the pipe if neither happens.
			line, err := bufio.NewReader(stdout).ReadString('\n')
			if err == nil && strings.TrimSpace(line) != clientsReady {
				err = fmt.Errorf("unexpected output %q", line)
			}
			p.ready <- err
		}()
	}
	// Each client's first call is bounded by cfg.Timeout in its process;
	// the margin covers starting the process.
	deadline := time.After(cfg.Timeout + 30*time.Second)
	for _, p := range procs {
		select {
		case err := <-p.ready:
			if err != nil {
				return procs, fmt.Errorf("client process %s not ready: %w", p.name, err)
			}
		case <-deadline:
			return procs, fmt.Errorf("client process %s not ready after %v", p.name, cfg.Timeout+30*time.Second)
		case <-ctx.Done():
			return procs, ctx.Err()
		}
	}
	return procs, nil
}

// stopClients closes the processes' stdin, which makes them close their
// clients and exit, and waits for them; one still running 10 s later is
// killed (by its PID: exec's Process). It returns the first failure.
func stopClients(procs []*clientProc) error {
	var wg sync.WaitGroup
	errs := make([]error, len(procs))
	for i, p := range procs {
		wg.Go(func() {
			p.stdin.Close()
			done := make(chan error, 1)
			go func() { done <- p.cmd.Wait() }()
			select {
			case err := <-done:
				if err != nil {
					errs[i] = fmt.Errorf("client process %s: %w", p.name, err)
				}
			case <-time.After(10 * time.Second):
				_ = p.cmd.Process.Kill()
				<-done
				errs[i] = fmt.Errorf("client process %s did not exit within 10 s of its stdin closing; killed", p.name)
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// startProfiles tells every client process to start its CPU profile.
func startProfiles(procs []*clientProc) error {
	for _, p := range procs {
		if _, err := io.WriteString(p.stdin, clientsProfileStart+"\n"); err != nil {
			return fmt.Errorf("client process %s: %w", p.name, err)
		}
	}
	return nil
}

// clientsCPU is the CPU time the processes have used so far.
func clientsCPU(procs []*clientProc) time.Duration {
	var sum time.Duration
	for _, p := range procs {
		c, _ := procstat.CPU(p.cmd.Process.Pid)
		sum += c
	}
	return sum
}
