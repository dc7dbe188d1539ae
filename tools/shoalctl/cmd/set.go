package cmd

import (
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

func (a *app) setCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "set SUBCOMMAND",
		Short: "Set specific features on objects",
	}
	c.AddCommand(a.setImageCommand())
	return c
}

// podSpecOf is the pod spec inside a Pod, Deployment or ReplicaSet.
func podSpecOf(obj kinds.Object) (*shoalv1.PodSpec, bool) {
	switch o := obj.(type) {
	case *shoalv1.Pod:
		return o.GetSpec(), o.GetSpec() != nil
	case *shoalv1.Deployment:
		return o.GetSpec().GetTemplate().GetSpec(), o.GetSpec().GetTemplate().GetSpec() != nil
	case *shoalv1.ReplicaSet:
		return o.GetSpec().GetTemplate().GetSpec(), o.GetSpec().GetTemplate().GetSpec() != nil
	}
	return nil, false
}

func (a *app) setImageCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "image (deployment|replicaset|pod)/NAME CONTAINER=IMAGE ...",
		Short: "Update the image of containers",
		Long:  "Update the image of containers; the container name * sets every container.",
		Example: `  shoalctl set image deployment/web app=shoal.local/web:v2
  shoalctl set image deploy web '*=shoal.local/web:v3'`,
		ValidArgsFunction: a.completeTargets,
		RunE: func(cmd *cobra.Command, args []string) error {
			var objArgs []string
			images := map[string]string{}
			for _, arg := range args {
				if name, img, ok := strings.Cut(arg, "="); ok {
					if name == "" || img == "" {
						return fmt.Errorf("invalid image update %q: expected CONTAINER=IMAGE", arg)
					}
					images[name] = img
					continue
				}
				objArgs = append(objArgs, arg)
			}
			if len(images) == 0 {
				return fmt.Errorf("at least one image update is required (CONTAINER=IMAGE)")
			}
			t, name, err := parseOne(objArgs)
			if err != nil {
				return err
			}
			conn, err := a.connect(cmd.Context())
			if err != nil {
				return err
			}
			_, err = a.mutate(cmd.Context(), conn, t, name, func(obj kinds.Object) (bool, error) {
				spec, ok := podSpecOf(obj)
				if !ok {
					return false, fmt.Errorf("%s has no pod template", t.Ref(name))
				}
				changed := false
				var missing []string
				for cname, img := range images {
					found := false
					for _, c := range spec.GetContainers() {
						if cname == "*" || c.GetName() == cname {
							found = true
							if c.Image != img {
								c.Image, changed = img, true
							}
						}
					}
					if !found {
						missing = append(missing, cname)
					}
				}
				if len(missing) > 0 {
					sort.Strings(missing)
					return false, fmt.Errorf("unable to find container named %q in %s", strings.Join(missing, `", "`), t.Ref(name))
				}
				return changed, nil
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.out(), "%s image updated\n", t.Ref(name))
			return nil
		},
	}
}
