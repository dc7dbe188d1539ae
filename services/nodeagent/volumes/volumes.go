// Package volumes prepares a pod's volumes on the host and turns a
// container's volume mounts into OCI bind mounts: emptyDir is a directory
// per pod (a size-limited tmpfs for medium Memory) removed with the pod;
// hostPath is a host file or directory, checked or created per its type.
package volumes

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

// ErrVolume is returned for a volume that cannot be prepared or mounted.
var ErrVolume = errors.New("volumes")

// Paths maps volume names to host paths.
type Paths map[string]string

// Setup prepares the pod's volumes under podDir/volumes and returns where
// each lives on the host. Safe to repeat (an agent restart re-runs it).
func Setup(podDir string, vols []*shoalv1.Volume) (Paths, error) {
	paths := Paths{}
	for _, v := range vols {
		switch {
		case v.GetEmptyDir() != nil:
			dir := filepath.Join(podDir, "volumes", v.GetName())
			if err := os.MkdirAll(dir, 0o777); err != nil {
				return nil, fmt.Errorf("%w: emptyDir %s: %v", ErrVolume, v.GetName(), err)
			}
			if v.GetEmptyDir().GetMedium() == shoalv1.StorageMedium_STORAGE_MEDIUM_MEMORY && !isMountPoint(dir) {
				data := "mode=1777"
				if n := v.GetEmptyDir().GetSizeLimitBytes(); n > 0 {
					data += fmt.Sprintf(",size=%d", n)
				}
				if err := unix.Mount("tmpfs", dir, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, data); err != nil {
					return nil, fmt.Errorf("%w: emptyDir %s: mounting tmpfs: %v", ErrVolume, v.GetName(), err)
				}
			}
			_ = os.Chmod(dir, 0o777)
			paths[v.GetName()] = dir
		case v.GetHostPath() != nil:
			p, err := hostPath(v.GetHostPath())
			if err != nil {
				return nil, fmt.Errorf("%w: hostPath %s: %v", ErrVolume, v.GetName(), err)
			}
			paths[v.GetName()] = p
		default:
			return nil, fmt.Errorf("%w: volume %s has no source", ErrVolume, v.GetName())
		}
	}
	return paths, nil
}

func hostPath(hp *shoalv1.HostPathVolumeSource) (string, error) {
	p := filepath.Clean(hp.GetPath())
	if !filepath.IsAbs(p) {
		return "", fmt.Errorf("path %q is not absolute", hp.GetPath())
	}
	fi, err := os.Stat(p)
	switch hp.GetType() {
	case shoalv1.HostPathType_HOST_PATH_TYPE_DIRECTORY_OR_CREATE:
		if os.IsNotExist(err) {
			return p, os.MkdirAll(p, 0o755)
		}
	case shoalv1.HostPathType_HOST_PATH_TYPE_FILE_OR_CREATE:
		if os.IsNotExist(err) {
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return "", err
			}
			f, err := os.OpenFile(p, os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				return "", err
			}
			return p, f.Close()
		}
	case shoalv1.HostPathType_HOST_PATH_TYPE_DIRECTORY:
		if err != nil || !fi.IsDir() {
			return "", fmt.Errorf("%q is not a directory", p)
		}
	case shoalv1.HostPathType_HOST_PATH_TYPE_FILE:
		if err != nil || !fi.Mode().IsRegular() {
			return "", fmt.Errorf("%q is not a file", p)
		}
	default:
		if err != nil {
			return "", fmt.Errorf("%q: %v", p, err)
		}
	}
	return p, nil
}

// Mounts returns the bind mounts of a container's volume mounts.
func Mounts(c *shoalv1.Container, paths Paths) ([]specs.Mount, error) {
	var out []specs.Mount
	for _, vm := range c.GetVolumeMounts() {
		src, ok := paths[vm.GetName()]
		if !ok {
			return nil, fmt.Errorf("%w: container %s mounts unknown volume %q", ErrVolume, c.GetName(), vm.GetName())
		}
		if sp := vm.GetSubPath(); sp != "" {
			if strings.Contains(sp, "..") || filepath.IsAbs(sp) {
				return nil, fmt.Errorf("%w: subPath %q must be relative without ..", ErrVolume, sp)
			}
			src = filepath.Join(src, sp)
			if _, err := os.Stat(src); os.IsNotExist(err) {
				if err := os.MkdirAll(src, 0o777); err != nil {
					return nil, fmt.Errorf("%w: subPath: %v", ErrVolume, err)
				}
			}
		}
		opts := []string{"rbind", "rprivate"}
		if vm.GetReadOnly() {
			opts = append(opts, "ro")
		} else {
			opts = append(opts, "rw")
		}
		out = append(out, specs.Mount{Destination: vm.GetMountPath(), Type: "bind", Source: src, Options: opts})
	}
	return out, nil
}

// Teardown unmounts and removes everything under podDir (emptyDirs only:
// hostPaths are never under it).
func Teardown(podDir string) error {
	vdir := filepath.Join(podDir, "volumes")
	entries, _ := os.ReadDir(vdir)
	var errs []error
	for _, e := range entries {
		p := filepath.Join(vdir, e.Name())
		if isMountPoint(p) {
			if err := unix.Unmount(p, unix.MNT_DETACH); err != nil {
				errs = append(errs, fmt.Errorf("%w: unmounting %s: %v", ErrVolume, p, err))
			}
		}
	}
	if len(errs) == 0 {
		if err := os.RemoveAll(podDir); err != nil {
			errs = append(errs, fmt.Errorf("%w: %v", ErrVolume, err))
		}
	}
	return errors.Join(errs...)
}

// isMountPoint reports whether p is a mount point (its device differs from
// its parent's).
func isMountPoint(p string) bool {
	var st, parent unix.Stat_t
	if unix.Lstat(p, &st) != nil || unix.Lstat(filepath.Dir(p), &parent) != nil {
		return false
	}
	return st.Dev != parent.Dev
}
