package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/selector"
)

func (a *app) logsCommand() *cobra.Command {
	var container string
	var follow, previous, timestamps bool
	var tail int64
	var since time.Duration
	c := &cobra.Command{
		Use:   "logs (POD | TYPE/NAME) [-c CONTAINER]",
		Short: "Print the logs of a container in a pod",
		Long: `Print a container's log lines. A deployment/NAME or replicaset/NAME prints
the logs of one of its pods (a ready one when there is one).`,
		Example: `  shoalctl logs web-0
  shoalctl logs -f --tail=20 deployment/web -c app
  shoalctl logs web-0 --previous`,
		Args:              cobra.RangeArgs(1, 2),
		ValidArgsFunction: a.completeTargets,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			conn, err := a.connect(ctx)
			if err != nil {
				return err
			}
			pod, err := a.podFor(ctx, conn, args)
			if err != nil {
				return err
			}
			if container == "" {
				cs := pod.GetSpec().GetContainers()
				if len(cs) > 1 {
					names := make([]string, len(cs))
					for i, c := range cs {
						names[i] = c.GetName()
					}
					return fmt.Errorf("a container name must be specified for pod %s, choose one of: [%s]", pod.GetMetadata().GetName(), strings.Join(names, " "))
				}
				if len(cs) == 1 {
					container = cs[0].GetName()
				}
			}
			req := &shoalv1.PodLogsRequest{
				Namespace: pod.GetMetadata().GetNamespace(), Name: pod.GetMetadata().GetName(),
				Container: container, Follow: follow, Previous: previous,
			}
			if tail >= 0 {
				req.TailLines = &tail
			}
			if since > 0 {
				req.SinceTime = timestamppb.New(a.opts.Now().Add(-since))
			}
			stream, err := shoalv1.NewPodLogServiceClient(conn).PodLogs(ctx, req)
			if err != nil {
				return a.apiError(err, nil)
			}
			for {
				resp, err := stream.Recv()
				if errors.Is(err, io.EOF) {
					return nil
				}
				if err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return a.apiError(err, nil)
				}
				for _, l := range resp.GetLines() {
					if timestamps {
						fmt.Fprintf(a.out(), "%s ", l.GetTime().AsTime().UTC().Format(time.RFC3339Nano))
					}
					a.out().Write(append(l.GetContent(), '\n'))
				}
			}
		},
	}
	c.Flags().StringVarP(&container, "container", "c", "", "the container to print (required when the pod has several)")
	c.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines")
	c.Flags().BoolVarP(&previous, "previous", "p", false, "the previous (terminated) instance of the container")
	c.Flags().BoolVar(&timestamps, "timestamps", false, "prefix each line with its time")
	c.Flags().Int64Var(&tail, "tail", -1, "only the last N lines; -1 prints all")
	c.Flags().DurationVar(&since, "since", 0, "only lines newer than this, e.g. 5m")
	return c
}

// podFor resolves `POD`, `pod/NAME`, `POD CONTAINER` and `deployment/NAME`
// (or replicaset) to one pod.
func (a *app) podFor(ctx context.Context, conn grpc.ClientConnInterface, args []string) (*shoalv1.Pod, error) {
	pods := client.For[*shoalv1.Pod](conn)
	kind, name, typed := strings.Cut(args[0], "/")
	if !typed {
		kind, name = "pod", args[0]
	}
	if len(args) == 2 {
		return nil, fmt.Errorf("give the container with -c: shoalctl logs %s -c %s", args[0], args[1])
	}
	t, err := parseOneOf(kind, name)
	if err != nil {
		return nil, err
	}
	if t == "Pod" {
		p, err := pods.Get(ctx, a.namespace(), name)
		if err != nil {
			return nil, a.notFound(err, podType(), name)
		}
		return p, nil
	}
	var sel *shoalv1.LabelSelector
	switch t {
	case "Deployment":
		d, err := client.For[*shoalv1.Deployment](conn).Get(ctx, a.namespace(), name)
		if err != nil {
			return nil, a.apiError(err, nil)
		}
		sel = d.GetSpec().GetSelector()
	case "ReplicaSet":
		rs, err := client.For[*shoalv1.ReplicaSet](conn).Get(ctx, a.namespace(), name)
		if err != nil {
			return nil, a.apiError(err, nil)
		}
		sel = rs.GetSpec().GetSelector()
	default:
		return nil, fmt.Errorf("cannot print the logs of a %s", kind)
	}
	s, err := selector.FromLabelSelector(sel)
	if err != nil {
		return nil, err
	}
	list, err := pods.ListAll(ctx, client.ListOptions{Namespace: a.namespace(), LabelSelector: s.String()})
	if err != nil {
		return nil, a.apiError(err, nil)
	}
	if len(list.Items) == 0 {
		return nil, fmt.Errorf("no pods found for %s/%s", kind, name)
	}
	items := list.Items
	sort.SliceStable(items, func(i, j int) bool { return podReady(items[i]) && !podReady(items[j]) })
	return items[0], nil
}

func podReady(p *shoalv1.Pod) bool {
	for _, c := range p.GetStatus().GetConditions() {
		if c.GetType() == "Ready" {
			return c.GetStatus() == shoalv1.ConditionStatus_CONDITION_STATUS_TRUE
		}
	}
	return false
}
