package cmd

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/tools/shoalctl/resource"
)

func nodeType() resource.Type {
	t, _ := resource.ForKind("Node")
	return t
}

// setUnschedulable cordons (true) or uncordons a node and says what it did.
func (a *app) setUnschedulable(ctx context.Context, conn grpc.ClientConnInterface, name string, on bool) (string, error) {
	verb := map[bool]string{true: "cordoned", false: "uncordoned"}[on]
	already := false
	_, err := a.mutate(ctx, conn, nodeType(), name, func(obj kinds.Object) (bool, error) {
		n := obj.(*shoalv1.Node)
		if n.GetSpec().GetUnschedulable() == on {
			already = true
			return false, nil
		}
		if n.Spec == nil {
			n.Spec = &shoalv1.NodeSpec{}
		}
		n.Spec.Unschedulable = on
		return true, nil
	})
	if err != nil {
		return "", err
	}
	if already {
		return "node/" + name + " already " + verb, nil
	}
	return "node/" + name + " " + verb, nil
}

func (a *app) cordonCommand(on bool) *cobra.Command {
	use, short := "cordon NODE...", "Mark nodes as unschedulable"
	if !on {
		use, short = "uncordon NODE...", "Mark nodes as schedulable"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, _ []string, s string) ([]string, cobra.ShellCompDirective) {
			return a.completeNames("nodes")(cmd, nil, s)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			conn, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			var errs []error
			for _, name := range args {
				msg, err := a.setUnschedulable(cmd.Context(), conn, strings.TrimPrefix(name, "node/"), on)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				fmt.Fprintln(a.out(), msg)
			}
			return errors.Join(errs...)
		},
	}
}

// controllerOf is the pod's managing owner, or nil.
func controllerOf(p *shoalv1.Pod) *shoalv1.OwnerReference {
	for _, o := range p.GetMetadata().GetOwnerReferences() {
		if o.GetController() {
			return o
		}
	}
	return nil
}

func (a *app) drainCommand() *cobra.Command {
	var force, wait bool
	var grace int64
	var timeout time.Duration
	c := &cobra.Command{
		Use:   "drain NODE",
		Short: "Cordon a node and evict its pods",
		Long: `Cordon a node, then delete (evict) every pod on it and wait until they are
gone. Pods without a controller would not come back anywhere else: drain
refuses them unless --force.`,
		Example: `  shoalctl drain node-a --grace-period=30 --timeout=5m`,
		Args:    cobra.ExactArgs(1),
		ValidArgsFunction: func(cmd *cobra.Command, _ []string, s string) ([]string, cobra.ShellCompDirective) {
			return a.completeNames("nodes")(cmd, nil, s)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			node := strings.TrimPrefix(args[0], "node/")
			conn, err := a.connect(ctx)
			if err != nil {
				return err
			}
			msg, err := a.setUnschedulable(ctx, conn, node, true)
			if err != nil {
				return err
			}
			fmt.Fprintln(a.out(), msg)
			pods, err := client.For[*shoalv1.Pod](conn).ListAll(ctx, client.ListOptions{FieldSelector: "spec.node_name=" + node})
			if err != nil {
				return a.apiError(err, nil)
			}
			var orphans []string
			var evict []*shoalv1.Pod
			for _, p := range pods.Items {
				if controllerOf(p) == nil && !force {
					orphans = append(orphans, kinds.Key(p))
					continue
				}
				if controllerOf(p) == nil {
					fmt.Fprintf(a.opts.Err, "Warning: deleting Pods that declare no controller: %s\n", kinds.Key(p))
				}
				evict = append(evict, p)
			}
			if len(orphans) > 0 {
				sort.Strings(orphans)
				return fmt.Errorf("unable to drain node %q: cannot delete Pods that declare no controller (use --force to override): %s", node, strings.Join(orphans, ", "))
			}
			opts := client.DeleteOptions{}
			if grace >= 0 {
				opts.GracePeriodSeconds = &grace
			}
			var errs []error
			var gone []kinds.Object
			for _, p := range evict {
				fmt.Fprintf(a.out(), "evicting pod %s\n", kinds.Key(p))
				obj, err := client.For[*shoalv1.Pod](conn).Delete(ctx, p.GetMetadata().GetNamespace(), p.GetMetadata().GetName(), opts)
				if err != nil && !client.IsNotFound(err) {
					errs = append(errs, a.apiError(err, p))
					continue
				}
				if obj != nil {
					gone = append(gone, obj)
				}
			}
			for _, obj := range gone {
				if wait {
					if err := a.waitGone(ctx, conn, obj); err != nil {
						errs = append(errs, err)
						continue
					}
				}
				fmt.Fprintf(a.out(), "pod/%s evicted\n", obj.GetMetadata().GetName())
			}
			if err := errors.Join(errs...); err != nil {
				return err
			}
			fmt.Fprintf(a.out(), "node/%s drained\n", node)
			return nil
		},
	}
	c.Flags().BoolVar(&force, "force", false, "also delete pods that declare no controller")
	c.Flags().Int64Var(&grace, "grace-period", -1, "seconds each pod gets to stop; -1 keeps the pod's own")
	c.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long; 0 waits forever")
	c.Flags().BoolVar(&wait, "wait", true, "wait until the evicted pods are gone")
	return c
}
