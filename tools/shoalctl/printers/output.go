package printers

import (
	"fmt"
	"io"

	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/tools/shoalctl/manifest"
)

// Formats are the -o values that print whole objects.
const (
	FormatYAML = "yaml"
	FormatJSON = "json"
	FormatName = "name"
)

// PrintObjects prints objects as Shoal documents in format (yaml, json):
// one object as itself, several (or a list, asList) as a `kind: List`.
func PrintObjects(w io.Writer, format string, objs []kinds.Object, asList bool) error {
	var tree map[string]any
	var err error
	if len(objs) == 1 && !asList {
		tree, err = manifest.Tree(objs[0])
	} else {
		tree, err = manifest.ListTree(objs)
	}
	if err != nil {
		return err
	}
	var out []byte
	switch format {
	case FormatYAML:
		out, err = manifest.MarshalYAML(tree)
	case FormatJSON:
		out, err = manifest.MarshalJSON(tree)
	default:
		return fmt.Errorf("unknown output format %q", format)
	}
	if err != nil {
		return err
	}
	_, err = w.Write(out)
	return err
}
