// Package mkimage builds OCI image archives (a tar of an OCI image layout)
// from files on the host, without a registry: static binaries for the node
// agent's pause sandbox and test servers, and a busybox-based image for
// shell tests. containerd's client.Import reads the archives; the image name
// travels in the org.opencontainers.image.ref.name annotation.
//
//	spec := mkimage.Spec{Ref: "shoal.local/pause:latest",
//		Files: []mkimage.File{{Path: "/pause", Src: "bin/pause", Mode: 0o755}},
//		Entrypoint: []string{"/pause"}}
//	err := mkimage.WriteArchive("images/pause.tar", spec)
package mkimage

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// RefAnnotation names an image inside an OCI layout's index.
const RefAnnotation = "org.opencontainers.image.ref.name"

// File is one file of the image's single layer: Content, or the host file
// Src when Content is nil.
type File struct {
	Path    string
	Src     string
	Content []byte
	Mode    int64
}

// Spec describes an image.
type Spec struct {
	// Ref is the full reference, e.g. shoal.local/busybox:latest.
	Ref        string
	Files      []File
	Dirs       []string
	Symlinks   map[string]string // link path -> target
	Entrypoint []string
	Cmd        []string
	Env        []string
	WorkingDir string
}

// ErrNoRef is returned for a spec without a reference.
var ErrNoRef = errors.New("mkimage: image reference required")

// fixed keeps builds reproducible: the same inputs give the same digest.
var fixed = time.Unix(0, 0).UTC()

// Build returns the image described by spec.
func Build(spec Spec) (v1.Image, error) {
	if spec.Ref == "" {
		return nil, ErrNoRef
	}
	layerTar, err := layerBytes(spec)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	}, tarball.WithMediaType(types.OCILayer))
	if err != nil {
		return nil, fmt.Errorf("mkimage: layer: %w", err)
	}
	base := mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
	img, err := mutate.AppendLayers(base, layer)
	if err != nil {
		return nil, fmt.Errorf("mkimage: append layer: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", goarch()
	cf.Created = v1.Time{Time: fixed}
	cf.Config.Entrypoint = spec.Entrypoint
	cf.Config.Cmd = spec.Cmd
	cf.Config.Env = append([]string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}, spec.Env...)
	cf.Config.WorkingDir = spec.WorkingDir
	return mutate.ConfigFile(img, cf)
}

func layerBytes(spec Spec) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	addDir := func(p string) error {
		p = strings.TrimPrefix(path.Clean("/"+p), "/")
		if p == "" || p == "." || dirs[p] {
			return nil
		}
		var parents []string
		for d := p; d != "." && d != "" && !dirs[d]; d = path.Dir(d) {
			parents = append(parents, d)
		}
		for i := len(parents) - 1; i >= 0; i-- {
			dirs[parents[i]] = true
			if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: parents[i] + "/", Mode: 0o755, ModTime: fixed}); err != nil {
				return err
			}
		}
		return nil
	}
	for _, d := range append([]string{"/tmp", "/etc", "/proc", "/sys", "/dev"}, spec.Dirs...) {
		if err := addDir(d); err != nil {
			return nil, err
		}
	}
	for _, f := range spec.Files {
		content := f.Content
		if content == nil {
			b, err := os.ReadFile(f.Src)
			if err != nil {
				return nil, fmt.Errorf("mkimage: %w", err)
			}
			content = b
		}
		name := strings.TrimPrefix(path.Clean("/"+f.Path), "/")
		if err := addDir(path.Dir(name)); err != nil {
			return nil, err
		}
		mode := f.Mode
		if mode == 0 {
			mode = 0o644
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(content)), ModTime: fixed}); err != nil {
			return nil, err
		}
		if _, err := tw.Write(content); err != nil {
			return nil, err
		}
	}
	links := make([]string, 0, len(spec.Symlinks))
	for l := range spec.Symlinks {
		links = append(links, l)
	}
	sort.Strings(links)
	for _, l := range links {
		name := strings.TrimPrefix(path.Clean("/"+l), "/")
		if err := addDir(path.Dir(name)); err != nil {
			return nil, err
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeSymlink, Name: name, Linkname: spec.Symlinks[l], Mode: 0o777, ModTime: fixed}); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// WriteArchive builds the image and writes it as an OCI archive (a tar of an
// OCI image layout) to dst.
func WriteArchive(dst string, spec Spec) error {
	img, err := Build(spec)
	if err != nil {
		return err
	}
	return WriteImage(dst, spec.Ref, img)
}

// WriteImage writes img as an OCI archive named ref to dst; the file
// appears atomically.
func WriteImage(dst, ref string, img v1.Image) error {
	dir, err := os.MkdirTemp(filepath.Dir(dst), ".mkimage-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	lp, err := layout.Write(filepath.Join(dir, "layout"), empty.Index)
	if err != nil {
		return fmt.Errorf("mkimage: layout: %w", err)
	}
	if err := lp.AppendImage(img, layout.WithAnnotations(map[string]string{RefAnnotation: ref})); err != nil {
		return fmt.Errorf("mkimage: layout: %w", err)
	}
	tmp := filepath.Join(dir, "archive.tar")
	if err := tarDir(filepath.Join(dir, "layout"), tmp); err != nil {
		return err
	}
	return os.Rename(tmp, dst)
}

func tarDir(src, dst string) error {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	tw := tar.NewWriter(f)
	err = filepath.Walk(src, func(p string, info os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil || rel == "." {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if info.IsDir() {
			hdr.Name += "/"
		}
		hdr.ModTime = fixed
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if info.Mode().IsRegular() {
			in, err := os.Open(p)
			if err != nil {
				return err
			}
			defer in.Close()
			_, err = io.Copy(tw, in)
			return err
		}
		return nil
	})
	if err == nil {
		err = tw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// Static returns the spec of an image holding one static binary at
// /<basename>, which is also its entrypoint.
func Static(ref, binary string, args ...string) Spec {
	name := "/" + filepath.Base(binary)
	return Spec{Ref: ref, Files: []File{{Path: name, Src: binary, Mode: 0o755}}, Entrypoint: []string{name}, Cmd: args}
}

// Busybox returns the spec of a shell image from a static busybox binary
// (Debian's busybox-static installs /bin/busybox): every applet is a
// symlink in /bin, and the default command is sh.
func Busybox(ref, busybox string) (Spec, error) {
	out, err := exec.Command(busybox, "--list").Output()
	if err != nil {
		return Spec{}, fmt.Errorf("mkimage: listing busybox applets (is busybox-static installed?): %w", err)
	}
	links := map[string]string{}
	for _, a := range strings.Fields(string(out)) {
		if a != "busybox" {
			links["/bin/"+a] = "busybox"
		}
	}
	return Spec{
		Ref:      ref,
		Files:    []File{{Path: "/bin/busybox", Src: busybox, Mode: 0o755}, {Path: "/etc/passwd", Content: []byte("root:x:0:0:root:/root:/bin/sh\n")}, {Path: "/etc/group", Content: []byte("root:x:0:\n")}},
		Dirs:     []string{"/root", "/var/www"},
		Symlinks: links,
		Cmd:      []string{"/bin/sh"},
	}, nil
}
