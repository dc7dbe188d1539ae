// Package probe runs a container's liveness and readiness probes (exec,
// tcp, http, grpc health) and reports when their outcome crosses the
// success or failure threshold.
package probe

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

// Execer runs a command inside the container and returns its exit code.
type Execer interface {
	Exec(ctx context.Context, argv []string) (int, error)
}

// Target is what a probe checks: the pod IP (network probes), the
// container's named ports and an Execer (exec probes).
type Target struct {
	IP    string
	Ports []*shoalv1.ContainerPort
	Exec  Execer
}

// ErrProbe is wrapped by every probe failure.
var ErrProbe = errors.New("probe failed")

// Check runs the probe once; nil means success.
func Check(ctx context.Context, p *shoalv1.Probe, t Target) error {
	timeout := time.Duration(p.GetTimeoutSeconds()) * time.Second
	if timeout <= 0 {
		timeout = time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	switch {
	case p.GetExec() != nil:
		if t.Exec == nil {
			return fmt.Errorf("%w: no exec target", ErrProbe)
		}
		code, err := t.Exec.Exec(ctx, p.GetExec().GetCommand())
		if err != nil {
			return fmt.Errorf("%w: exec: %v", ErrProbe, err)
		}
		if code != 0 {
			return fmt.Errorf("%w: exec %v exited %d", ErrProbe, p.GetExec().GetCommand(), code)
		}
		return nil
	case p.GetTcpSocket() != nil:
		port, err := resolve(p.GetTcpSocket().GetPort(), t.Ports)
		if err != nil {
			return err
		}
		host := hostOr(p.GetTcpSocket().GetHost(), t.IP)
		c, err := (&net.Dialer{}).DialContext(ctx, "tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return fmt.Errorf("%w: tcp: %v", ErrProbe, err)
		}
		return c.Close()
	case p.GetHttpGet() != nil:
		return checkHTTP(ctx, p.GetHttpGet(), t)
	case p.GetGrpc() != nil:
		return checkGRPC(ctx, p.GetGrpc(), t)
	}
	return fmt.Errorf("%w: probe has no handler", ErrProbe)
}

func hostOr(h, ip string) string {
	if h != "" {
		return h
	}
	return ip
}

func resolve(p *shoalv1.IntOrString, ports []*shoalv1.ContainerPort) (int, error) {
	if p.GetStrValue() != "" {
		for _, cp := range ports {
			if cp.GetName() == p.GetStrValue() {
				return int(cp.GetContainerPort()), nil
			}
		}
		if n, err := strconv.Atoi(p.GetStrValue()); err == nil {
			return n, nil
		}
		return 0, fmt.Errorf("%w: no container port named %q", ErrProbe, p.GetStrValue())
	}
	if p.GetIntValue() <= 0 {
		return 0, fmt.Errorf("%w: port required", ErrProbe)
	}
	return int(p.GetIntValue()), nil
}

func checkHTTP(ctx context.Context, h *shoalv1.HTTPGetAction, t Target) error {
	port, err := resolve(h.GetPort(), t.Ports)
	if err != nil {
		return err
	}
	scheme := "http"
	if h.GetScheme() == shoalv1.URIScheme_URI_SCHEME_HTTPS {
		scheme = "https"
	}
	path := h.GetPath()
	if path == "" || path[0] != '/' {
		path = "/" + path
	}
	url := scheme + "://" + net.JoinHostPort(hostOr(h.GetHost(), t.IP), strconv.Itoa(port)) + path
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("%w: http: %v", ErrProbe, err)
	}
	for _, hd := range h.GetHttpHeaders() {
		req.Header.Add(hd.GetName(), hd.GetValue())
	}
	req.Header.Set("User-Agent", "shoal-probe/1")
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}, DisableKeepAlives: true} //nolint:gosec // kubelet does not verify probe certificates either
	resp, err := (&http.Client{Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		return fmt.Errorf("%w: http: %v", ErrProbe, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 10<<10))
	if resp.StatusCode < 200 || resp.StatusCode >= 400 {
		return fmt.Errorf("%w: http GET %s: status %d", ErrProbe, url, resp.StatusCode)
	}
	return nil
}

func checkGRPC(ctx context.Context, g *shoalv1.GRPCAction, t Target) error {
	addr := net.JoinHostPort(t.IP, strconv.Itoa(int(g.GetPort())))
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return fmt.Errorf("%w: grpc: %v", ErrProbe, err)
	}
	defer conn.Close()
	resp, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{Service: g.GetService()})
	if err != nil {
		return fmt.Errorf("%w: grpc health: %v", ErrProbe, err)
	}
	if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		return fmt.Errorf("%w: grpc health: %s", ErrProbe, resp.GetStatus())
	}
	return nil
}

// RunOption tunes Run.
type RunOption func(*runOptions)

type runOptions struct {
	onFailure func(err error)
}

// OnFailure is called with every failed check, below the threshold too
// (the kubelet records an Unhealthy event for each).
func OnFailure(f func(err error)) RunOption {
	return func(o *runOptions) { o.onFailure = f }
}

// Run probes every period until ctx ends. It starts from initial and calls
// report each time the outcome flips: after success_threshold successes
// in a row (default 1) or failure_threshold failures (default 3).
func Run(ctx context.Context, p *shoalv1.Probe, t Target, initial bool, report func(ok bool, err error), opts ...RunOption) {
	var o runOptions
	for _, opt := range opts {
		opt(&o)
	}
	period := time.Duration(p.GetPeriodSeconds()) * time.Second
	if period <= 0 {
		period = 10 * time.Second
	}
	succ, fail := int(p.GetSuccessThreshold()), int(p.GetFailureThreshold())
	if succ <= 0 {
		succ = 1
	}
	if fail <= 0 {
		fail = 3
	}
	state := initial
	okRun, failRun := 0, 0
	delay := time.Duration(p.GetInitialDelaySeconds()) * time.Second
	timer := time.NewTimer(delay)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
		err := Check(ctx, p, t)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			okRun, failRun = okRun+1, 0
			if !state && okRun >= succ {
				state = true
				report(true, nil)
			}
		} else {
			if o.onFailure != nil {
				o.onFailure(err)
			}
			okRun, failRun = 0, failRun+1
			if state && failRun >= fail {
				state = false
				report(false, err)
			}
		}
		timer.Reset(period)
	}
}
