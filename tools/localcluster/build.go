package localcluster

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"

	"github.com/shoalmesh/shoal/tools/mkimage"
)

// Services are the five service binaries, in start order.
var Services = []string{"apigateway", "scheduler", "controller", "xds", "nodeagent"}

// Image references of the sample app and the sandbox.
const (
	PauseImage     = "shoal.local/pause:latest"
	GreeterV1Image = "shoal.local/greeter:v1"
	GreeterV2Image = "shoal.local/greeter:v2"
	// GreeterClientImage runs tools/greeter/client (a mesh client pod).
	GreeterClientImage = "shoal.local/greeter-client:v1"
)

// RepoRoot is the module root (where go.mod is).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// GoBuild compiles static binaries of pkgs (relative to the repo root) into
// dir, named after their last path element.
func GoBuild(ctx context.Context, dir string, pkgs ...string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, "go", append([]string{"build", "-o", dir + "/"}, pkgs...)...)
	cmd.Dir = RepoRoot()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build %v: %v\n%s", pkgs, err, out)
	}
	return nil
}

// BuildBinaries builds what `make build` does into binDir: the five
// services, shoalctl, and the greeter client.
func BuildBinaries(ctx context.Context, binDir string) error {
	pkgs := []string{"./tools/shoalctl", "./tools/greeter/client"}
	for _, s := range Services {
		pkgs = append(pkgs, "./services/"+s)
	}
	return GoBuild(ctx, binDir, pkgs...)
}

// BuildImages writes the archives a local cluster's agents import into
// imageDir: the pause sandbox, the greeter client, and the greeter server as v1 and v2 (the
// same binary; v2 differs in its image config, so it is a new image).
// Scratch binaries go to workDir.
func BuildImages(ctx context.Context, workDir, imageDir string) error {
	if err := os.MkdirAll(imageDir, 0o755); err != nil {
		return err
	}
	pauseDir, greeterDir := filepath.Join(workDir, "pause"), filepath.Join(workDir, "greeter")
	if err := GoBuild(ctx, pauseDir, "./services/nodeagent/pause"); err != nil {
		return err
	}
	if err := GoBuild(ctx, greeterDir, "./tools/greeter/server", "./tools/greeter/client"); err != nil {
		return err
	}
	if err := mkimage.WriteArchive(filepath.Join(imageDir, "greeter-client.tar"),
		mkimage.Static(GreeterClientImage, filepath.Join(greeterDir, "client"))); err != nil {
		return err
	}
	if err := mkimage.WriteArchive(filepath.Join(imageDir, "pause.tar"),
		mkimage.Static(PauseImage, filepath.Join(pauseDir, "pause"))); err != nil {
		return err
	}
	for _, v := range []struct{ ref, version string }{{GreeterV1Image, "v1"}, {GreeterV2Image, "v2"}} {
		spec := mkimage.Spec{
			Ref:        v.ref,
			Files:      []mkimage.File{{Path: "/greeter", Src: filepath.Join(greeterDir, "server"), Mode: 0o755}},
			Entrypoint: []string{"/greeter"},
			Env:        []string{"GREETER_VERSION=" + v.version},
		}
		if err := mkimage.WriteArchive(filepath.Join(imageDir, "greeter-"+v.version+".tar"), spec); err != nil {
			return err
		}
	}
	return nil
}

// ServiceImages writes an OCI archive of each service binary in binDir
// (shoal.local/<service>:<tag>, entrypoint /<service>) into outDir, so the
// services can also run as containers (configured by SHOAL_* variables).
func ServiceImages(binDir, outDir, tag string) error {
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	for _, s := range Services {
		ref := "shoal.local/" + s + ":" + tag
		if err := mkimage.WriteArchive(filepath.Join(outDir, s+".tar"), mkimage.Static(ref, filepath.Join(binDir, s))); err != nil {
			return fmt.Errorf("image of %s: %w", s, err)
		}
	}
	return nil
}
