package cmd

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"google.golang.org/protobuf/proto"

	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/tools/shoalctl/resource"
)

// target is a resource type and the names asked for (none: every object).
type target struct {
	typ   resource.Type
	names []string
}

// parseTargets reads kubectl's ways of naming objects:
//
//	pods                  every pod
//	pods web-0 web-1      two pods
//	pods,svc              every pod and service
//	pod/web-0 svc/web     one of each
func parseTargets(args []string) ([]target, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("you must specify the type of resource (%s)", strings.Join(typeNames(), ", "))
	}
	if strings.Contains(args[0], "/") {
		var out []target
		for _, arg := range args {
			kind, name, ok := strings.Cut(arg, "/")
			if !ok || name == "" {
				return nil, fmt.Errorf("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'shoalctl get resource/<resource_name>' instead of 'shoalctl get resource resource/<resource_name>')")
			}
			t, err := resource.Lookup(kind)
			if err != nil {
				return nil, err
			}
			out = append(out, target{typ: t, names: []string{name}})
		}
		return out, nil
	}
	var out []target
	kindList := strings.Split(args[0], ",")
	if args[0] == "all" {
		// kubectl's "all": the workload kinds of a namespace.
		kindList = []string{"pods", "services", "deployments", "replicasets"}
	}
	for _, kind := range kindList {
		t, err := resource.Lookup(kind)
		if err != nil {
			return nil, err
		}
		out = append(out, target{typ: t, names: args[1:]})
	}
	for _, name := range args[1:] {
		if strings.Contains(name, "/") {
			return nil, fmt.Errorf("there is no need to specify a resource type as a separate argument when passing arguments in resource/name form")
		}
	}
	if len(out) > 1 && len(args) > 1 {
		return nil, fmt.Errorf("names can be given with one resource type only")
	}
	return out, nil
}

// parseOne reads exactly one object: `deployment/web` or `deployment web`.
func parseOne(args []string) (resource.Type, string, error) {
	targets, err := parseTargets(args)
	if err != nil {
		return resource.Type{}, "", err
	}
	if len(targets) != 1 || len(targets[0].names) != 1 {
		return resource.Type{}, "", fmt.Errorf("exactly one object is required, as TYPE/NAME or TYPE NAME")
	}
	return targets[0].typ, targets[0].names[0], nil
}

func typeNames() []string {
	var out []string
	for _, t := range resource.Types() {
		out = append(out, t.Kind.Resource)
	}
	return out
}

// completeTargets completes a resource type, then names of that type.
func (a *app) completeTargets(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	if len(args) == 0 {
		if kind, prefix, ok := strings.Cut(toComplete, "/"); ok {
			names, dir := a.completeNames(kind)(cmd, nil, prefix)
			for i := range names {
				names[i] = kind + "/" + names[i]
			}
			return names, dir
		}
		var out []string
		for _, n := range resource.Names() {
			if strings.HasPrefix(n, toComplete) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
	if strings.Contains(args[0], "/") {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return a.completeNames(args[0])(cmd, nil, toComplete)
}

// completeNames completes object names of one type from the API.
func (a *app) completeNames(kind string) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, toComplete string) ([]string, cobra.ShellCompDirective) {
		t, err := resource.Lookup(kind)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		ctx := cmd.Context()
		if ctx == nil {
			ctx = context.Background()
		}
		conn, err := a.connect(ctx)
		if err != nil {
			cobra.CompDebugln("connecting: "+err.Error(), true)
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		// A consistent list (resource_version ""): the cache answers once it
		// has caught up with etcd, so an object created a moment ago is
		// offered too.
		o := client.ListOptions{}
		if t.Kind.Namespaced {
			o.Namespace = a.namespace()
		}
		objs, _, err := t.Client(conn).List(ctx, o)
		if err != nil {
			cobra.CompDebugln("listing "+t.Kind.Resource+": "+err.Error(), true)
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []string
		for _, obj := range objs {
			if n := obj.GetMetadata().GetName(); strings.HasPrefix(n, toComplete) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

func cloneObject(o kinds.Object) kinds.Object { return proto.Clone(o).(kinds.Object) }

// parseOneOf resolves a type name to its kind name ("po" -> "Pod").
func parseOneOf(kind, name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("a name is required after %s/", kind)
	}
	t, err := resource.Lookup(kind)
	if err != nil {
		return "", err
	}
	return t.Kind.Name, nil
}

func podType() resource.Type {
	t, _ := resource.ForKind("Pod")
	return t
}

func deploymentType() resource.Type {
	t, _ := resource.ForKind("Deployment")
	return t
}
