package cmd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/tools/shoalctl/apply"
	"github.com/shoalmesh/shoal/tools/shoalctl/manifest"
	"github.com/shoalmesh/shoal/tools/shoalctl/resource"
)

// maxConflicts bounds apply's read-merge-update retries on a stale
// resource_version.
const maxConflicts = 5

func (a *app) applyCommand() *cobra.Command {
	var files []string
	var recursive bool
	c := &cobra.Command{
		Use:   "apply -f FILENAME",
		Short: "Create or update objects from files, directories or stdin",
		Long: `Create or update objects from manifests: a file, a directory of .yaml,
.yml and .json files, or - for stdin, each with one or more documents.

Kubernetes manifests of the kinds Shoal has are accepted as they are
(v1 Pod, Service, Namespace, ReplicationController; apps/v1 Deployment,
ReplicaSet), as are Shoal documents (apiVersion shoal.io/v1). A field Shoal
does not have is refused with its path and document; then nothing is applied.`,
		Example: `  shoalctl apply -f app.yaml
  shoalctl apply -f ./manifests/
  cat app.yaml | shoalctl apply -f -`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			docs, err := a.readManifests(files, recursive)
			if err != nil {
				return err
			}
			conn, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			var errs []error
			for _, d := range docs {
				result, err := a.applyDocument(cmd.Context(), conn, d)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				t, _ := resource.ForKind(string(d.Object.ProtoReflect().Descriptor().Name()))
				fmt.Fprintf(a.out(), "%s %s\n", t.Ref(d.Object.GetMetadata().GetName()), result)
			}
			return errors.Join(errs...)
		},
	}
	c.Flags().StringSliceVarP(&files, "filename", "f", nil, "file, directory or - (stdin) with the manifests")
	c.Flags().BoolVarP(&recursive, "recursive", "R", false, "read directories recursively")
	_ = c.MarkFlagRequired("filename")
	_ = c.MarkFlagFilename("filename", "yaml", "yml", "json")
	return c
}

// readManifests reads and converts every document of every file; any
// refused document fails the whole read.
func (a *app) readManifests(paths []string, recursive bool) ([]manifest.Document, error) {
	var docs []manifest.Document
	var errs []error
	for _, p := range paths {
		sources, err := expand(p, recursive)
		if err != nil {
			return nil, err
		}
		for _, src := range sources {
			var d []manifest.Document
			if src == "-" {
				d, err = manifest.ReadFrom("<stdin>", a.opts.In)
			} else {
				var data []byte
				data, err = os.ReadFile(src)
				if err == nil {
					d, err = manifest.Decode(src, data)
				}
			}
			if err != nil {
				errs = append(errs, err)
				continue
			}
			docs = append(docs, d...)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if len(docs) == 0 {
		return nil, fmt.Errorf("no objects passed to apply")
	}
	return docs, nil
}

// expand lists the manifest files a -f argument names.
func expand(path string, recursive bool) ([]string, error) {
	if path == "-" {
		return []string{"-"}, nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("the path %q does not exist", path)
	}
	if !info.IsDir() {
		return []string{path}, nil
	}
	var out []string
	err = filepath.WalkDir(path, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != path && !recursive {
				return filepath.SkipDir
			}
			return nil
		}
		switch strings.ToLower(filepath.Ext(p)) {
		case ".yaml", ".yml", ".json":
			out = append(out, p)
		}
		return nil
	})
	sort.Strings(out)
	return out, err
}

// placeObject sets the object's namespace: the document's, else -n's;
// kubectl refuses a document whose namespace differs from an explicit -n.
func (a *app) placeObject(d manifest.Document) error {
	kind, err := kinds.Of(d.Object)
	if err != nil {
		return err
	}
	m := kinds.Meta(d.Object)
	if !kind.Namespaced {
		m.Namespace = ""
		return nil
	}
	switch {
	case m.Namespace == "":
		m.Namespace = a.namespace()
	case a.namespaceExplicit() && m.Namespace != a.namespace():
		return fmt.Errorf("%s: the namespace from the provided object %q does not match the namespace %q. You must pass '--namespace=%s' to perform this operation.",
			d.Describe(), m.Namespace, a.namespace(), m.Namespace)
	}
	return nil
}

// applyDocument creates the object, or merges it into the stored one, and
// says which: created, configured or unchanged.
func (a *app) applyDocument(ctx context.Context, conn grpc.ClientConnInterface, d manifest.Document) (string, error) {
	if err := a.placeObject(d); err != nil {
		return "", err
	}
	desired, err := apply.Prepare(d.Object)
	if err != nil {
		return "", err
	}
	t, err := resource.ForKind(string(desired.ProtoReflect().Descriptor().Name()))
	if err != nil {
		return "", err
	}
	c := t.Client(conn)
	wrap := func(err error) error {
		if client.IsInvalid(err) {
			return a.apiError(err, desired) // names kind and object on every line
		}
		return fmt.Errorf("%s: %w", t.Ref(desired.GetMetadata().GetName()), a.apiError(err, desired))
	}
	_, err = c.Create(ctx, desired)
	if err == nil {
		return "created", nil
	}
	if !client.IsAlreadyExists(err) {
		return "", wrap(err)
	}
	m := desired.GetMetadata()
	for range maxConflicts {
		cur, err := c.Get(ctx, m.GetNamespace(), m.GetName())
		if err != nil {
			return "", wrap(err)
		}
		merged, err := apply.Merge(cur, desired, apply.LastApplied(cur))
		if err != nil {
			return "", err
		}
		if apply.SameIntent(merged, cur) {
			return "unchanged", nil
		}
		out, err := c.Update(ctx, merged)
		if client.IsConflict(err) {
			continue
		}
		if err != nil {
			return "", wrap(err)
		}
		// The manifest may leave out what the gateway defaults; then the
		// update changed nothing the user asked for.
		if apply.SameIntent(out, cur) {
			return "unchanged", nil
		}
		return "configured", nil
	}
	return "", fmt.Errorf("%s: the object kept changing; gave up after %d attempts", d.Describe(), maxConflicts)
}
