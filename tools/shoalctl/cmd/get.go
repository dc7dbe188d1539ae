package cmd

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"google.golang.org/grpc"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/tools/shoalctl/printers"
	"github.com/shoalmesh/shoal/tools/shoalctl/resource"
)

// listFlags select objects the way kubectl's -l, -A and --field-selector do.
type listFlags struct {
	selector      string
	fieldSelector string
	allNamespaces bool
}

func (f *listFlags) register(c *cobra.Command) {
	c.Flags().StringVarP(&f.selector, "selector", "l", "", "label selector, e.g. app=web,tier!=db,env in (a,b)")
	c.Flags().StringVar(&f.fieldSelector, "field-selector", "", "field selector, e.g. spec.node_name=node-a,status.phase=Running")
	c.Flags().BoolVarP(&f.allNamespaces, "all-namespaces", "A", false, "list across all namespaces")
}

// listNamespace is the namespace a list of t reads: "" for every namespace.
func (a *app) listNamespace(t resource.Type, all bool) string {
	if !t.Kind.Namespaced || all {
		return ""
	}
	return a.namespace()
}

// objectNamespace is the namespace of one named object of t.
func (a *app) objectNamespace(t resource.Type) string {
	if !t.Kind.Namespaced {
		return ""
	}
	return a.namespace()
}

func (a *app) getCommand() *cobra.Command {
	var lf listFlags
	var output string
	var watch, noHeaders, showKind bool
	c := &cobra.Command{
		Use:   "get TYPE[,TYPE...] [NAME...] | TYPE/NAME...",
		Short: "Display one or many objects",
		Long: `Display objects in kubectl's columns, or whole as YAML or JSON (Shoal
documents that apply reads back). Types: ` + joinNames(),
		Example: `  shoalctl get pods
  shoalctl get deploy,svc -l app=web -o wide
  shoalctl get pod/web-0 -o yaml
  shoalctl get pods -A -w`,
		ValidArgsFunction: a.completeTargets,
		RunE: func(cmd *cobra.Command, args []string) error {
			switch output {
			case "", "wide", printers.FormatYAML, printers.FormatJSON, printers.FormatName:
			default:
				return fmt.Errorf("unable to match a printer suitable for the output format %q, allowed formats are: json, name, wide, yaml", output)
			}
			targets, err := parseTargets(args)
			if err != nil {
				return err
			}
			conn, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			if watch {
				if len(targets) != 1 {
					return fmt.Errorf("watch is only supported on individual resources and resource collections, but %d resources were found", len(targets))
				}
				return a.watch(cmd.Context(), conn, targets[0], lf, output, noHeaders)
			}
			tbl := a.table()
			tbl.Wide, tbl.NoHeaders = output == "wide", noHeaders
			tbl.WithNamespace = lf.allNamespaces
			var all []kinds.Object
			var errs []error
			printed := false
			for _, tg := range targets {
				objs, err := a.fetch(cmd.Context(), conn, tg, lf)
				errs = append(errs, err)
				all = append(all, objs...)
				if output != "" && output != "wide" || len(objs) == 0 {
					continue
				}
				if printed {
					fmt.Fprintln(a.out())
				}
				printed = true
				var tw tablePrinter = tbl
				if showKind || len(targets) > 1 {
					tw = prefixed(tbl, tg.typ)
				}
				if err := tw.Print(a.out(), tg.typ.Kind.Name, objs); err != nil {
					return err
				}
			}
			switch output {
			case printers.FormatYAML, printers.FormatJSON:
				single := len(targets) == 1 && len(targets[0].names) == 1
				if len(all) > 0 || !single {
					if err := printers.PrintObjects(a.out(), output, all, !single); err != nil {
						return err
					}
				}
			case printers.FormatName:
				for _, o := range all {
					t, _ := resource.ForKind(string(o.ProtoReflect().Descriptor().Name()))
					fmt.Fprintln(a.out(), t.Ref(o.GetMetadata().GetName()))
				}
			default:
				if len(all) == 0 && errors.Join(errs...) == nil {
					a.noResources(targets[0].typ, lf.allNamespaces)
				}
			}
			return errors.Join(errs...)
		},
	}
	lf.register(c)
	c.Flags().StringVarP(&output, "output", "o", "", "output format: wide, yaml, json or name")
	c.Flags().BoolVarP(&watch, "watch", "w", false, "after listing, watch for changes")
	c.Flags().BoolVar(&noHeaders, "no-headers", false, "leave out the header row")
	c.Flags().BoolVar(&showKind, "show-kind", false, "prefix names with their type")
	_ = c.RegisterFlagCompletionFunc("output", cobra.FixedCompletions([]string{"wide", "yaml", "json", "name"}, cobra.ShellCompDirectiveNoFileComp))
	return c
}

// prefixedTable prints NAME as type/name, as kubectl does when several
// types are listed.
type prefixedTable struct {
	*printers.Table
	typ resource.Type
}

func prefixed(t *printers.Table, typ resource.Type) tablePrinter {
	return prefixedTable{Table: t, typ: typ}
}

type tablePrinter interface {
	Print(w io.Writer, kind string, objs []kinds.Object) error
}

func (p prefixedTable) Print(w io.Writer, kind string, objs []kinds.Object) error {
	renamed := make([]kinds.Object, len(objs))
	for i, o := range objs {
		c := cloneObject(o)
		kinds.Meta(c).Name = p.typ.Ref(o.GetMetadata().GetName())
		renamed[i] = c
	}
	return p.Table.Print(w, kind, renamed)
}

func (a *app) noResources(t resource.Type, all bool) {
	if t.Kind.Namespaced && !all {
		fmt.Fprintf(a.opts.Err, "No resources found in %s namespace.\n", a.namespace())
		return
	}
	fmt.Fprintln(a.opts.Err, "No resources found")
}

// fetch reads the objects a target names: each name, or a filtered list.
func (a *app) fetch(ctx context.Context, conn grpc.ClientConnInterface, tg target, lf listFlags) ([]kinds.Object, error) {
	c := tg.typ.Client(conn)
	if len(tg.names) == 0 {
		objs, _, err := c.List(ctx, client.ListOptions{
			Namespace: a.listNamespace(tg.typ, lf.allNamespaces), LabelSelector: lf.selector, FieldSelector: lf.fieldSelector,
		})
		return objs, a.apiError(err, nil)
	}
	var out []kinds.Object
	var errs []error
	for _, name := range tg.names {
		obj, err := c.Get(ctx, a.objectNamespace(tg.typ), name)
		if err != nil {
			errs = append(errs, a.notFound(err, tg.typ, name))
			continue
		}
		out = append(out, obj)
	}
	return out, errors.Join(errs...)
}

// notFound is kubectl's `pods "web" not found` for a NOT_FOUND on a name.
func (a *app) notFound(err error, t resource.Type, name string) error {
	if client.IsNotFound(err) {
		return fmt.Errorf("%s %q not found", t.Kind.Resource, name)
	}
	return a.apiError(err, nil)
}

// watch lists, prints, then prints every change until interrupted.
func (a *app) watch(ctx context.Context, conn grpc.ClientConnInterface, tg target, lf listFlags, output string, noHeaders bool) error {
	if len(tg.names) > 1 {
		return fmt.Errorf("watch is only supported on a single object or a collection")
	}
	fs := lf.fieldSelector
	if len(tg.names) == 1 {
		fs = joinSelectors(fs, "metadata.name="+tg.names[0])
	}
	ns := a.listNamespace(tg.typ, lf.allNamespaces)
	if len(tg.names) == 1 {
		ns = a.objectNamespace(tg.typ)
	}
	c := tg.typ.Client(conn)
	objs, rv, err := c.List(ctx, client.ListOptions{Namespace: ns, LabelSelector: lf.selector, FieldSelector: fs})
	if err != nil {
		return a.apiError(err, nil)
	}
	tbl := a.table()
	tbl.Wide, tbl.NoHeaders, tbl.WithNamespace = output == "wide", noHeaders, lf.allNamespaces
	var stream *printers.Stream
	printOne := func(obj kinds.Object) error {
		switch output {
		case printers.FormatYAML:
			fmt.Fprintln(a.out(), "---")
			return printers.PrintObjects(a.out(), output, []kinds.Object{obj}, false)
		case printers.FormatJSON:
			return printers.PrintObjects(a.out(), output, []kinds.Object{obj}, false)
		case printers.FormatName:
			_, err := fmt.Fprintln(a.out(), tg.typ.Ref(obj.GetMetadata().GetName()))
			return err
		}
		return stream.Row(tbl.Row(obj))
	}
	if output == "" || output == "wide" {
		rows := tbl.Rows(tg.typ.Kind.Name, objs)
		if !noHeaders {
			rows = append([][]string{tbl.Header(tg.typ.Kind.Name)}, rows...)
		}
		stream = printers.NewStream(a.out(), rows)
		for _, r := range rows {
			if err := stream.Row(r); err != nil {
				return err
			}
		}
	} else {
		for _, o := range objs {
			if err := printOne(o); err != nil {
				return err
			}
		}
	}
	for {
		w, err := c.Watch(ctx, client.WatchOptions{Namespace: ns, LabelSelector: lf.selector, FieldSelector: fs, ResourceVersion: rv})
		if err != nil {
			return a.apiError(err, nil)
		}
		for {
			typ, obj, err := w.Recv()
			if err != nil {
				w.Close()
				if ctx.Err() != nil {
					return nil
				}
				if errors.Is(err, io.EOF) {
					break // the gateway ended the watch (drain): resume
				}
				return a.apiError(err, nil)
			}
			rv = obj.GetMetadata().GetResourceVersion()
			if typ == shoalv1.WatchEventType_WATCH_EVENT_TYPE_BOOKMARK {
				continue
			}
			if err := printOne(obj); err != nil {
				w.Close()
				return err
			}
		}
	}
}

func joinSelectors(a, b string) string {
	if a == "" {
		return b
	}
	return a + "," + b
}

func joinNames() string {
	out := ""
	for i, n := range typeNames() {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}
