package cmd

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/tools/shoalctl/printers"
	"github.com/shoalmesh/shoal/tools/shoalctl/resource"
)

// mutate reads an object, changes it with edit and writes it back with the
// read resource_version, again from the read on a conflict. edit returning
// false means there is nothing to write.
func (a *app) mutate(ctx context.Context, conn grpc.ClientConnInterface, t resource.Type, name string, edit func(kinds.Object) (bool, error)) (kinds.Object, error) {
	c := t.Client(conn)
	for range maxConflicts {
		obj, err := c.Get(ctx, a.objectNamespace(t), name)
		if err != nil {
			return nil, a.notFound(err, t, name)
		}
		changed, err := edit(obj)
		if err != nil {
			return nil, err
		}
		if !changed {
			return obj, nil
		}
		out, err := c.Update(ctx, obj)
		if client.IsConflict(err) {
			continue
		}
		if err != nil {
			return nil, a.apiError(err, obj)
		}
		return out, nil
	}
	return nil, fmt.Errorf("%s kept changing; gave up after %d attempts", t.Ref(name), maxConflicts)
}

func (a *app) scaleCommand() *cobra.Command {
	var replicas, current int32
	c := &cobra.Command{
		Use:   "scale (deployment|replicaset)/NAME --replicas=COUNT",
		Short: "Set the number of replicas of a Deployment or ReplicaSet",
		Example: `  shoalctl scale deployment/web --replicas=5
  shoalctl scale rs web-5d8f7c --replicas=0 --current-replicas=2`,
		ValidArgsFunction: a.completeTargets,
		RunE: func(cmd *cobra.Command, args []string) error {
			if replicas < 0 {
				return fmt.Errorf("the --replicas=COUNT flag is required, and COUNT must be 0 or more")
			}
			t, name, err := parseOne(args)
			if err != nil {
				return err
			}
			conn, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			_, err = a.mutate(cmd.Context(), conn, t, name, func(obj kinds.Object) (bool, error) {
				var spec *int32
				switch o := obj.(type) {
				case *shoalv1.Deployment:
					if o.Spec == nil {
						o.Spec = &shoalv1.DeploymentSpec{}
					}
					spec = printers.ReplicasPtr(&o.Spec.Replicas)
				case *shoalv1.ReplicaSet:
					if o.Spec == nil {
						o.Spec = &shoalv1.ReplicaSetSpec{}
					}
					spec = printers.ReplicasPtr(&o.Spec.Replicas)
				default:
					return false, fmt.Errorf("%s cannot be scaled: only deployments and replicasets can", t.Kind.Resource)
				}
				if current >= 0 && *spec != current {
					return false, fmt.Errorf("expected replicas to be %d, was %d", current, *spec)
				}
				*spec = replicas
				return true, nil
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out(), "%s scaled\n", t.Ref(name))
			return nil
		},
	}
	c.Flags().Int32Var(&replicas, "replicas", -1, "the new number of replicas")
	c.Flags().Int32Var(&current, "current-replicas", -1, "only scale when the current number is this")
	_ = c.MarkFlagRequired("replicas")
	return c
}
