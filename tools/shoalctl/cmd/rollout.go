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
	"github.com/shoalmesh/shoal/sdk/go/rollout"
	"github.com/shoalmesh/shoal/tools/shoalctl/printers"
)

// deploymentArg reads `deployment/NAME` or `deployment NAME` (the only kind
// with rollouts).
func deploymentArg(args []string) (string, error) {
	t, name, err := parseOne(args)
	if err != nil {
		return "", err
	}
	if t.Kind.Name != "Deployment" {
		return "", fmt.Errorf("no rollouts for %s: only deployments have them", t.Kind.Resource)
	}
	return name, nil
}

func (a *app) rolloutCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "rollout SUBCOMMAND",
		Short: "Manage the rollout of a Deployment",
		Example: `  shoalctl rollout status deployment/web
  shoalctl rollout history deployment/web
  shoalctl rollout undo deployment/web --to-revision=2`,
	}
	c.AddCommand(a.rolloutStatusCommand(), a.rolloutHistoryCommand(), a.rolloutUndoCommand(),
		a.rolloutPauseCommand(true), a.rolloutPauseCommand(false))
	return c
}

func (a *app) rolloutStatusCommand() *cobra.Command {
	var watch bool
	var timeout time.Duration
	c := &cobra.Command{
		Use:               "status deployment/NAME",
		Short:             "Show the progress of a rollout, until it finishes",
		ValidArgsFunction: a.completeTargets,
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := deploymentArg(args)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			conn, err := a.connect(ctx)
			if err != nil {
				return err
			}
			return a.rolloutStatus(ctx, conn, name, watch)
		},
	}
	c.Flags().BoolVarP(&watch, "watch", "w", true, "follow the rollout until it is done")
	c.Flags().DurationVar(&timeout, "timeout", 0, "give up after this long; 0 waits forever")
	return c
}

// rolloutStatus prints each new status line of the deployment, from a
// watch, until the rollout is done.
func (a *app) rolloutStatus(ctx context.Context, conn grpc.ClientConnInterface, name string, watch bool) error {
	deployments := client.For[*shoalv1.Deployment](conn)
	ns := a.namespace()
	last := ""
	report := func(d *shoalv1.Deployment) (bool, error) {
		st, err := rollout.StatusOf(d)
		if err != nil {
			if errors.Is(err, rollout.ErrProgressDeadline) {
				return true, errors.New(st.Message)
			}
			return true, err
		}
		if st.Message != last {
			fmt.Fprintln(a.out(), st.Message)
			last = st.Message
		}
		return st.Done, nil
	}
	res, err := deployments.List(ctx, client.ListOptions{Namespace: ns, FieldSelector: "metadata.name=" + name})
	if err != nil {
		return a.apiError(err, nil)
	}
	if len(res.Items) == 0 {
		return fmt.Errorf("deployments %q not found", name)
	}
	if done, err := report(res.Items[0]); done || err != nil || !watch {
		return err
	}
	rv := res.ResourceVersion
	for {
		w, err := deployments.Watch(ctx, client.WatchOptions{Namespace: ns, FieldSelector: "metadata.name=" + name, ResourceVersion: rv})
		if err != nil {
			return a.apiError(err, nil)
		}
		for {
			ev, err := w.Recv()
			if err != nil {
				w.Close()
				if ctx.Err() != nil {
					return fmt.Errorf("timed out waiting for the rollout of deployment %q", name)
				}
				if client.IsGone(err) {
					return a.rolloutStatus(ctx, conn, name, watch) // relist
				}
				break // the stream ended: watch again from rv
			}
			rv = ev.Object.GetMetadata().GetResourceVersion()
			switch ev.Type {
			case shoalv1.WatchEventType_WATCH_EVENT_TYPE_BOOKMARK:
				continue
			case shoalv1.WatchEventType_WATCH_EVENT_TYPE_DELETED:
				w.Close()
				return fmt.Errorf("deployment %q was deleted", name)
			}
			if done, err := report(ev.Object); done || err != nil {
				w.Close()
				return err
			}
		}
	}
}

func (a *app) rolloutHistoryCommand() *cobra.Command {
	var revision int64
	c := &cobra.Command{
		Use:               "history deployment/NAME",
		Short:             "List a Deployment's revisions",
		ValidArgsFunction: a.completeTargets,
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := deploymentArg(args)
			if err != nil {
				return err
			}
			conn, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			hist, err := rollout.History(cmd.Context(), conn, a.namespace(), name)
			if err != nil {
				if client.IsNotFound(err) {
					return fmt.Errorf("deployments %q not found", name)
				}
				return a.apiError(err, nil)
			}
			if revision > 0 {
				for _, r := range hist {
					if r.Number == revision {
						fmt.Fprintf(a.out(), "deployment/%s with revision #%d\nPod Template:\n", name, revision)
						return printers.DescribeTemplate(a.out(), r.Template())
					}
				}
				return fmt.Errorf("unable to find the specified revision %d", revision)
			}
			fmt.Fprintf(a.out(), "deployment/%s\n", name)
			tw := printers.NewTabWriter(a.out())
			fmt.Fprintln(tw, "REVISION\tCHANGE-CAUSE")
			for _, r := range hist {
				cause := r.ChangeCause
				if cause == "" {
					cause = "<none>"
				}
				fmt.Fprintf(tw, "%d\t%s\n", r.Number, cause)
			}
			return tw.Flush()
		},
	}
	c.Flags().Int64Var(&revision, "revision", 0, "show the pod template of this revision")
	return c
}

func (a *app) rolloutUndoCommand() *cobra.Command {
	var to int64
	c := &cobra.Command{
		Use:               "undo deployment/NAME [--to-revision=N]",
		Short:             "Roll a Deployment back to an earlier revision",
		ValidArgsFunction: a.completeTargets,
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := deploymentArg(args)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			conn, err := a.connect(ctx)
			if err != nil {
				return err
			}
			for range maxConflicts {
				before, err := client.For[*shoalv1.Deployment](conn).Get(ctx, a.namespace(), name)
				if err != nil {
					return a.notFound(err, deploymentType(), name)
				}
				after, err := rollout.Undo(ctx, conn, a.namespace(), name, to)
				switch {
				case client.IsConflict(err):
					continue
				case errors.Is(err, rollout.ErrNoPreviousRevision):
					return fmt.Errorf("no rollout history found for deployment %q", name)
				case errors.Is(err, rollout.ErrRevisionNotFound):
					return fmt.Errorf("unable to find specified revision %d in history", to)
				case err != nil:
					return a.apiError(err, before)
				}
				if after.GetMetadata().GetResourceVersion() == before.GetMetadata().GetResourceVersion() {
					fmt.Fprintf(a.out(), "deployment/%s skipped rollback (current template already matches the revision)\n", name)
					return nil
				}
				fmt.Fprintf(a.out(), "deployment/%s rolled back\n", name)
				return nil
			}
			return fmt.Errorf("deployment/%s kept changing; gave up after %d attempts", name, maxConflicts)
		},
	}
	c.Flags().Int64Var(&to, "to-revision", 0, "the revision to go back to; 0 is the previous one")
	return c
}

func (a *app) rolloutPauseCommand(pause bool) *cobra.Command {
	use, short, verb := "pause deployment/NAME", "Stop rolling out template changes", "paused"
	if !pause {
		use, short, verb = "resume deployment/NAME", "Resume a paused Deployment", "resumed"
	}
	return &cobra.Command{
		Use:               use,
		Short:             short,
		ValidArgsFunction: a.completeTargets,
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := deploymentArg(args)
			if err != nil {
				return err
			}
			conn, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			before, err := client.For[*shoalv1.Deployment](conn).Get(cmd.Context(), a.namespace(), name)
			if err != nil {
				return a.notFound(err, deploymentType(), name)
			}
			set := rollout.Pause
			if !pause {
				set = rollout.Resume
			}
			if _, err := set(cmd.Context(), conn, a.namespace(), name); err != nil {
				return a.apiError(err, kinds.Object(before))
			}
			if before.GetSpec().GetPaused() == pause {
				fmt.Fprintf(a.out(), "deployment/%s already %s\n", name, verb)
				return nil
			}
			fmt.Fprintf(a.out(), "deployment/%s %s\n", name, verb)
			return nil
		},
	}
}
