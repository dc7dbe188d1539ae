package nodeagenttest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// Registry is a real OCI distribution registry (go-containerregistry's)
// served in plain HTTP on a loopback port, for pull tests: no registry is
// reachable from the test machines.
type Registry struct {
	srv *httptest.Server
	// Host is host:port, the first part of image references.
	Host string
}

// StartRegistry serves an empty in-memory registry on 127.0.0.1.
func StartRegistry() *Registry {
	srv := httptest.NewServer(registry.New(registry.Logger(log.New(io.Discard, "", 0))))
	return &Registry{srv: srv, Host: strings.TrimPrefix(srv.URL, "http://")}
}

// Close stops the registry.
func (r *Registry) Close() { r.srv.Close() }

// Push uploads img as repo:tag through the distribution API (blobs by
// monolithic upload, then the manifest) and returns its full reference.
func (r *Registry) Push(ctx context.Context, repo, tag string, img v1.Image) (string, error) {
	layers, err := img.Layers()
	if err != nil {
		return "", err
	}
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			return "", err
		}
		rc, err := l.Compressed()
		if err != nil {
			return "", err
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return "", err
		}
		if err := r.put(ctx, http.MethodPost, "/v2/"+repo+"/blobs/uploads/?digest="+d.String(), "application/octet-stream", b); err != nil {
			return "", err
		}
	}
	cfgName, err := img.ConfigName()
	if err != nil {
		return "", err
	}
	cfg, err := img.RawConfigFile()
	if err != nil {
		return "", err
	}
	if err := r.put(ctx, http.MethodPost, "/v2/"+repo+"/blobs/uploads/?digest="+cfgName.String(), "application/octet-stream", cfg); err != nil {
		return "", err
	}
	mt, err := img.MediaType()
	if err != nil {
		return "", err
	}
	manifest, err := img.RawManifest()
	if err != nil {
		return "", err
	}
	if err := r.put(ctx, http.MethodPut, "/v2/"+repo+"/manifests/"+tag, string(mt), manifest); err != nil {
		return "", err
	}
	return r.Host + "/" + repo + ":" + tag, nil
}

func (r *Registry) put(ctx context.Context, method, path, contentType string, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, method, r.srv.URL+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", contentType)
	resp, err := r.srv.Client().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated && resp.StatusCode != http.StatusAccepted {
		msg, _ := io.ReadAll(resp.Body)
		return fmt.Errorf("registry: %s %s: %s: %s", method, path, resp.Status, msg)
	}
	return nil
}
