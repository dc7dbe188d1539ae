// Command shoal-local is `make run`: it brings a local Shoal cluster up
// (tools/localcluster), deploys the sample app, prints how to look around,
// and on Ctrl-C stops everything and leaves nothing behind.
//
//	shoal-local --bin bin --dir .run --nodes 3     # make run NODES=3
//	shoal-local images --bin bin --out bin/images  # make images
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/shoalmesh/shoal/services/xds/bootstrap"
	"github.com/shoalmesh/shoal/tools/localcluster"
)

func main() {
	var err error
	if len(os.Args) > 1 && os.Args[1] == "images" {
		err = images(os.Args[2:])
	} else {
		err = run(os.Args[1:])
	}
	if err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "shoal-local:", err)
		os.Exit(1)
	}
}

func images(args []string) error {
	fs := flag.NewFlagSet("shoal-local images", flag.ContinueOnError)
	bin := fs.String("bin", "bin", "directory of the service binaries")
	out := fs.String("out", "bin/images", "where the OCI archives go")
	tag := fs.String("tag", "latest", "image tag")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := localcluster.ServiceImages(*bin, *out, *tag); err != nil {
		return err
	}
	fmt.Printf("service images (shoal.local/<service>:%s) in %s\n", *tag, *out)
	return nil
}

func debianLike() bool {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "ID=") || strings.HasPrefix(l, "ID_LIKE=") {
			v := strings.Trim(strings.TrimPrefix(strings.TrimPrefix(l, "ID="), "ID_LIKE="), `"`)
			for _, id := range strings.Fields(v) {
				if id == "debian" || id == "ubuntu" {
					return true
				}
			}
		}
	}
	return false
}

// ensurePackages installs what is missing with apt (root, Debian/Ubuntu),
// or says exactly what to run.
func ensurePackages(nodes int) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("a local cluster runs containers and creates network namespaces, so it needs root:\n\n  sudo make run NODES=%d\n", nodes)
	}
	missing := localcluster.MissingPackages()
	if len(missing) == 0 {
		return nil
	}
	cmd := "apt-get update && apt-get install -y " + strings.Join(missing, " ")
	if !debianLike() {
		return fmt.Errorf("missing %s, and this is not Debian/Ubuntu: install the equivalents (on Debian: %s)", strings.Join(missing, ", "), cmd)
	}
	fmt.Println("installing", strings.Join(missing, " "))
	c := exec.Command("sh", "-c", cmd)
	c.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	c.Stdout, c.Stderr = os.Stdout, os.Stderr
	if err := c.Run(); err != nil {
		return fmt.Errorf("%s: %w", cmd, err)
	}
	return nil
}

func run(args []string) error {
	fs := flag.NewFlagSet("shoal-local", flag.ContinueOnError)
	bin := fs.String("bin", "bin", "directory of the built binaries (make build)")
	dir := fs.String("dir", ".run", "state, logs and sockets of the cluster (emptied at start)")
	nodes := fs.Int("nodes", 1, "node agents, each in a network namespace of its own")
	manifests := fs.String("manifests", "deploy/local", "directory of sample-app.yaml and client-pod.yaml")
	noApp := fs.Bool("no-app", false, "do not deploy the sample app")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := ensurePackages(*nodes); err != nil {
		return err
	}
	absBin, _ := filepath.Abs(*bin)
	absDir, _ := filepath.Abs(*dir)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	imageDir := filepath.Join(absDir, "images")
	fmt.Println("building images (pause, greeter v1/v2, greeter client)...")
	if err := localcluster.BuildImages(ctx, filepath.Join(absDir, "build"), imageDir); err != nil {
		return err
	}
	cl, err := localcluster.Up(ctx, localcluster.Config{
		Dir: filepath.Join(absDir, "cluster"), BinDir: absBin, ImageDir: imageDir,
		Nodes: *nodes, NetnsPerNode: true, Log: log,
	})
	if err != nil {
		return err
	}
	downed := false
	down := func() error {
		if downed {
			return nil
		}
		downed = true
		fmt.Println("\nstopping the cluster...")
		err := cl.Down()
		left := cl.Leftovers()
		var dirty []string
		for k, v := range left {
			if v != 0 {
				dirty = append(dirty, fmt.Sprintf("%s=%d", k, v))
			}
		}
		if len(dirty) > 0 {
			err = errors.Join(err, fmt.Errorf("left behind: %s", strings.Join(dirty, " ")))
		} else {
			fmt.Println("stopped; nothing left behind (no containers, mounts, netns, bridges, routes)")
		}
		return err
	}
	defer down()

	shoalctl := filepath.Join(absBin, "shoalctl")
	bootstrapFile := filepath.Join(absDir, "xds-bootstrap.json")
	bs, err := bootstrap.GRPC(cl.XDSAddr, "proxyless~127.0.0.1~host-client.default~default.svc.cluster.local", bootstrap.Options{})
	if err != nil {
		return err
	}
	if err := os.WriteFile(bootstrapFile, bs, 0o644); err != nil {
		return err
	}
	if !*noApp {
		tmpl, err := os.ReadFile(filepath.Join(*manifests, "client-pod.yaml"))
		if err != nil {
			return err
		}
		clientPod := filepath.Join(absDir, "client-pod.yaml")
		if err := os.WriteFile(clientPod, []byte(strings.ReplaceAll(string(tmpl), "${XDS_ADDRESS}", cl.XDSAddr)), 0o644); err != nil {
			return err
		}
		for _, a := range [][]string{
			{"apply", "-f", filepath.Join(*manifests, "sample-app.yaml")},
			{"apply", "-f", clientPod},
			{"rollout", "status", "deployment/greeter"},
		} {
			c := exec.CommandContext(ctx, shoalctl, append([]string{"--server", cl.GatewayAddr}, a...)...)
			c.Stdout, c.Stderr = os.Stdout, os.Stderr
			if err := c.Run(); err != nil {
				return fmt.Errorf("shoalctl %s: %w", strings.Join(a, " "), err)
			}
		}
	}
	sctl := fmt.Sprintf("%s --server %s", shoalctl, cl.GatewayAddr)
	fmt.Printf(`
Shoal is up: %d node(s), gateway %s, xds %s, logs in %s
Look around (as root):

  export SHOAL_SERVER=%s
  %s get nodes -o wide
  %s get pods -A -o wide
  %s get deploy,rs,svc,endpoints
  %s logs greeter-client                      # a mesh client pod: calls per replica
  %s describe deployment greeter
  %s set image deployment/greeter greeter=%s && %s rollout status deployment/greeter
  %s rollout undo deployment/greeter
  %s scale deployment/greeter --replicas=5
  GRPC_XDS_BOOTSTRAP=%s %s/client --calls 300   # the same client, on the host
  curl '%s/debug/config?node=proxyless~127.0.0.1~host-client.default~default.svc.cluster.local'
  tail -f %s/*.log

Ctrl-C stops everything and cleans up.
`, len(cl.Nodes), cl.GatewayAddr, cl.XDSAddr, filepath.Dir(cl.LogPath("x")),
		cl.GatewayAddr, sctl, sctl, sctl, sctl, sctl, sctl, localcluster.GreeterV2Image, sctl, sctl, sctl,
		bootstrapFile, absBin, cl.XDSAdminAddr, filepath.Dir(cl.LogPath("x")))

	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return down()
		case <-tick.C:
			if ex := cl.Exited(); len(ex) > 0 {
				fmt.Fprintln(os.Stderr, "a process exited:", strings.Join(ex, ", "))
				return errors.Join(errors.New("a cluster process exited"), down())
			}
		}
	}
}
