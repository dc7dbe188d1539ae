package cmd

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/tools/shoalctl/resource"
)

// pollInterval is how often commands that wait re-read what they wait for.
const pollInterval = time.Second

func (a *app) deleteCommand() *cobra.Command {
	var lf listFlags
	var files []string
	var all, ignoreNotFound, wait bool
	var grace int64
	var cascade string
	c := &cobra.Command{
		Use:   "delete ([-f FILENAME] | TYPE [NAME... | -l SELECTOR | --all] | TYPE/NAME...)",
		Short: "Delete objects by file, name or label selector",
		Example: `  shoalctl delete pod web-0
  shoalctl delete -f app.yaml
  shoalctl delete pods -l app=web
  shoalctl delete deployment/web --cascade=foreground`,
		ValidArgsFunction: a.completeTargets,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			opts := client.DeleteOptions{}
			if grace >= 0 {
				opts.GracePeriodSeconds = &grace
			}
			switch cascade {
			case "background", "true":
				opts.PropagationPolicy = shoalv1.PropagationPolicy_PROPAGATION_POLICY_BACKGROUND
			case "foreground":
				opts.PropagationPolicy = shoalv1.PropagationPolicy_PROPAGATION_POLICY_FOREGROUND
			case "orphan", "false":
				opts.PropagationPolicy = shoalv1.PropagationPolicy_PROPAGATION_POLICY_ORPHAN
			default:
				return fmt.Errorf("invalid cascade value %q: must be background, foreground or orphan", cascade)
			}
			type victim struct {
				typ       resource.Type
				namespace string
				name      string
			}
			var victims []victim
			conn, err := a.connect(ctx)
			if err != nil {
				return err
			}
			switch {
			case len(files) > 0:
				if len(args) > 0 {
					return fmt.Errorf("use -f or resource names, not both")
				}
				docs, err := a.readManifests(files, false)
				if err != nil {
					return err
				}
				for _, d := range docs {
					if err := a.placeObject(d); err != nil {
						return err
					}
					t, err := resource.ForKind(string(d.Object.ProtoReflect().Descriptor().Name()))
					if err != nil {
						return err
					}
					m := d.Object.GetMetadata()
					victims = append(victims, victim{t, m.GetNamespace(), m.GetName()})
				}
			default:
				targets, err := parseTargets(args)
				if err != nil {
					return err
				}
				for _, tg := range targets {
					if len(tg.names) > 0 {
						if lf.selector != "" || all {
							return fmt.Errorf("names and --selector/--all cannot be used together")
						}
						for _, n := range tg.names {
							victims = append(victims, victim{tg.typ, a.objectNamespace(tg.typ), n})
						}
						continue
					}
					if lf.selector == "" && lf.fieldSelector == "" && !all {
						return fmt.Errorf("resource(s) were provided, but no name was specified; use --all to delete every %s", tg.typ.Kind.Resource)
					}
					objs, _, err := tg.typ.Client(conn).List(ctx, client.ListOptions{
						Namespace: a.listNamespace(tg.typ, lf.allNamespaces), LabelSelector: lf.selector, FieldSelector: lf.fieldSelector})
					if err != nil {
						return a.apiError(err, nil)
					}
					for _, o := range objs {
						victims = append(victims, victim{tg.typ, o.GetMetadata().GetNamespace(), o.GetMetadata().GetName()})
					}
				}
				if len(victims) == 0 {
					a.noResources(targets[0].typ, lf.allNamespaces)
					return nil
				}
			}
			var errs []error
			var deleted []kinds.Object
			for _, v := range victims {
				obj, err := v.typ.Client(conn).Delete(ctx, v.namespace, v.name, opts)
				if err != nil {
					if ignoreNotFound && client.IsNotFound(err) {
						continue
					}
					errs = append(errs, a.notFound(err, v.typ, v.name))
					continue
				}
				fmt.Fprintf(a.out(), "%s %q deleted\n", v.typ.Singular, v.name)
				deleted = append(deleted, obj)
			}
			if wait {
				for _, obj := range deleted {
					if err := a.waitGone(ctx, conn, obj); err != nil {
						errs = append(errs, err)
					}
				}
			}
			return errors.Join(errs...)
		},
	}
	lf.register(c)
	c.Flags().StringSliceVarP(&files, "filename", "f", nil, "delete the objects of these manifests")
	c.Flags().BoolVar(&all, "all", false, "delete every object of the type in the namespace")
	c.Flags().BoolVar(&ignoreNotFound, "ignore-not-found", false, "treat a missing object as deleted")
	c.Flags().Int64Var(&grace, "grace-period", -1, "seconds pods get to stop; -1 keeps the pod's own; 0 deletes at once")
	c.Flags().StringVar(&cascade, "cascade", "background", "dependents: background, foreground or orphan")
	c.Flags().BoolVar(&wait, "wait", false, "wait until the objects are gone")
	return c
}

// waitGone polls until the object (this uid) no longer exists.
func (a *app) waitGone(ctx context.Context, conn grpc.ClientConnInterface, obj kinds.Object) error {
	t, err := resource.ForKind(string(obj.ProtoReflect().Descriptor().Name()))
	if err != nil {
		return err
	}
	m := obj.GetMetadata()
	for {
		cur, err := t.Client(conn).Get(ctx, m.GetNamespace(), m.GetName())
		if client.IsNotFound(err) || (err == nil && cur.GetMetadata().GetUid() != m.GetUid()) {
			return nil
		}
		if err != nil {
			return a.apiError(err, nil)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("timed out waiting for %s to be deleted", t.Ref(m.GetName()))
		case <-time.After(pollInterval):
		}
	}
}
