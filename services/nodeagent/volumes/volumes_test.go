package volumes

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

func TestSetupMountsTeardown(t *testing.T) {
	podDir := filepath.Join(t.TempDir(), "pod")
	host := t.TempDir()
	vols := []*shoalv1.Volume{
		{Name: "scratch", Source: &shoalv1.Volume_EmptyDir{EmptyDir: &shoalv1.EmptyDirVolumeSource{}}},
		{Name: "mem", Source: &shoalv1.Volume_EmptyDir{EmptyDir: &shoalv1.EmptyDirVolumeSource{Medium: shoalv1.StorageMedium_STORAGE_MEDIUM_MEMORY, SizeLimitBytes: 1 << 20}}},
		{Name: "host", Source: &shoalv1.Volume_HostPath{HostPath: &shoalv1.HostPathVolumeSource{Path: filepath.Join(host, "made"), Type: shoalv1.HostPathType_HOST_PATH_TYPE_DIRECTORY_OR_CREATE}}},
	}
	paths, err := Setup(podDir, vols)
	if err != nil {
		t.Fatal(err)
	}
	if !isMountPoint(paths["mem"]) || isMountPoint(paths["scratch"]) {
		t.Errorf("memory emptyDir should be a tmpfs mount, the other not")
	}
	if fi, err := os.Stat(filepath.Join(host, "made")); err != nil || !fi.IsDir() {
		t.Errorf("hostPath DirectoryOrCreate not created")
	}
	// Setup again (agent restart) does not stack mounts.
	if _, err := Setup(podDir, vols); err != nil {
		t.Fatal(err)
	}
	c := &shoalv1.Container{Name: "c", VolumeMounts: []*shoalv1.VolumeMount{
		{Name: "scratch", MountPath: "/s"}, {Name: "host", MountPath: "/h", ReadOnly: true}}}
	ms, err := Mounts(c, paths)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || !slices.Contains(ms[1].Options, "ro") || !slices.Contains(ms[0].Options, "rw") || ms[0].Source != paths["scratch"] {
		t.Errorf("mounts = %+v", ms)
	}
	if _, err := Mounts(&shoalv1.Container{VolumeMounts: []*shoalv1.VolumeMount{{Name: "nope", MountPath: "/x"}}}, paths); !errors.Is(err, ErrVolume) {
		t.Errorf("unknown volume: %v", err)
	}
	if err := Teardown(podDir); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(podDir); !os.IsNotExist(err) {
		t.Errorf("pod dir left behind")
	}
	if _, err := os.Stat(filepath.Join(host, "made")); err != nil {
		t.Errorf("teardown removed a hostPath")
	}
}

func TestHostPathTypes(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o644)
	tests := []struct {
		name    string
		src     *shoalv1.HostPathVolumeSource
		wantErr bool
	}{
		{"directory exists", &shoalv1.HostPathVolumeSource{Path: dir, Type: shoalv1.HostPathType_HOST_PATH_TYPE_DIRECTORY}, false},
		{"directory is a file", &shoalv1.HostPathVolumeSource{Path: file, Type: shoalv1.HostPathType_HOST_PATH_TYPE_DIRECTORY}, true},
		{"file exists", &shoalv1.HostPathVolumeSource{Path: file, Type: shoalv1.HostPathType_HOST_PATH_TYPE_FILE}, false},
		{"file or create", &shoalv1.HostPathVolumeSource{Path: filepath.Join(dir, "new/g"), Type: shoalv1.HostPathType_HOST_PATH_TYPE_FILE_OR_CREATE}, false},
		{"missing, no type", &shoalv1.HostPathVolumeSource{Path: filepath.Join(dir, "missing")}, true},
		{"relative", &shoalv1.HostPathVolumeSource{Path: "rel"}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := hostPath(tc.src)
			if (err != nil) != tc.wantErr {
				t.Errorf("err = %v, want error %v", err, tc.wantErr)
			}
		})
	}
}
