package cmd

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

func (a *app) describeCommand() *cobra.Command {
	var lf listFlags
	c := &cobra.Command{
		Use:   "describe (TYPE [NAME... | -l SELECTOR] | TYPE/NAME...)",
		Short: "Show details of objects, with their recent events",
		Example: `  shoalctl describe pod web-0
  shoalctl describe deploy -l app=web`,
		ValidArgsFunction: a.completeTargets,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			targets, err := parseTargets(args)
			if err != nil {
				return err
			}
			conn, err := a.connect(ctx)
			if err != nil {
				return err
			}
			var objs []kinds.Object
			var errs []error
			for _, tg := range targets {
				o, err := a.fetch(ctx, conn, tg, lf)
				objs = append(objs, o...)
				errs = append(errs, err)
			}
			if len(objs) == 0 {
				if err := errors.Join(errs...); err != nil {
					return err
				}
				a.noResources(targets[0].typ, lf.allNamespaces)
				return nil
			}
			// Events of namespaced objects are in their namespace; those of
			// nodes and namespaces may be anywhere.
			evNamespace := ""
			if len(targets) == 1 && targets[0].typ.Kind.Namespaced && !lf.allNamespaces {
				evNamespace = a.namespace()
			}
			events, err := client.For[*shoalv1.Event](conn).ListAll(ctx, client.ListOptions{Namespace: evNamespace})
			if err != nil {
				return a.apiError(err, nil)
			}
			tbl := a.table()
			for i, obj := range objs {
				if i > 0 {
					fmt.Fprintln(a.out())
				}
				if err := tbl.Describe(a.out(), obj, eventsAbout(events.Items, obj)); err != nil {
					return err
				}
			}
			return errors.Join(errs...)
		},
	}
	lf.register(c)
	return c
}

// eventsAbout picks the events whose involved object is obj (by uid when
// the event has one).
func eventsAbout(events []*shoalv1.Event, obj kinds.Object) []*shoalv1.Event {
	m := obj.GetMetadata()
	kind := string(obj.ProtoReflect().Descriptor().Name())
	var out []*shoalv1.Event
	for _, e := range events {
		ref := e.GetSpec().GetInvolvedObject()
		if ref.GetKind() != kind || ref.GetName() != m.GetName() || ref.GetNamespace() != m.GetNamespace() {
			continue
		}
		if ref.GetUid() != "" && m.GetUid() != "" && ref.GetUid() != m.GetUid() {
			continue
		}
		out = append(out, e)
	}
	return out
}
