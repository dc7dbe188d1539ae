package mkimage

import (
	"archive/tar"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteArchiveIsAnOCILayoutNamedByRef(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "hello")
	if err := os.WriteFile(bin, []byte("#!binary"), 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "img.tar")
	if err := WriteArchive(out, Static("shoal.local/hello:v1", bin, "--flag")); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	names := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(tr)
		names[h.Name] = b
	}
	for _, want := range []string{"oci-layout", "index.json"} {
		if _, ok := names[want]; !ok {
			t.Errorf("archive lacks %s: %v", want, keys(names))
		}
	}
	var idx struct {
		Manifests []struct {
			MediaType   string            `json:"mediaType"`
			Annotations map[string]string `json:"annotations"`
		} `json:"manifests"`
	}
	if err := json.Unmarshal(names["index.json"], &idx); err != nil || len(idx.Manifests) != 1 {
		t.Fatalf("index.json: %v %s", err, names["index.json"])
	}
	if m := idx.Manifests[0]; m.Annotations[RefAnnotation] != "shoal.local/hello:v1" || m.MediaType != "application/vnd.oci.image.manifest.v1+json" {
		t.Errorf("index entry = %+v", m)
	}
	// Reproducible: the same inputs give the same archive.
	out2 := filepath.Join(dir, "img2.tar")
	if err := WriteArchive(out2, Static("shoal.local/hello:v1", bin, "--flag")); err != nil {
		t.Fatal(err)
	}
	a, _ := os.ReadFile(out)
	b, _ := os.ReadFile(out2)
	if string(a) != string(b) {
		t.Errorf("two builds of the same image differ")
	}
}

func TestBuildSetsConfig(t *testing.T) {
	img, err := Build(Spec{Ref: "x/y:z", Files: []File{{Path: "/bin/a", Content: []byte("a"), Mode: 0o755}},
		Entrypoint: []string{"/bin/a"}, Cmd: []string{"b"}, Env: []string{"K=V"}, WorkingDir: "/w"})
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.Config.Entrypoint[0] != "/bin/a" || cf.Config.Cmd[0] != "b" || cf.Config.WorkingDir != "/w" || cf.Config.Env[1] != "K=V" || cf.OS != "linux" {
		t.Errorf("config = %+v", cf.Config)
	}
	if _, err := Build(Spec{}); !errors.Is(err, ErrNoRef) {
		t.Errorf("no ref: %v", err)
	}
}

func keys(m map[string][]byte) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}
