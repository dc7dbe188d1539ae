package manifest

import (
	"bytes"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// Tree is an object as a Shoal document: apiVersion shoal.io/v1, its kind,
// and its fields by proto JSON names. Decode reads it back.
func Tree(obj kinds.Object) (map[string]any, error) {
	js, err := protojson.Marshal(obj)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	tree := map[string]any{}
	if err := dec.Decode(&tree); err != nil {
		return nil, err
	}
	tree["apiVersion"] = APIVersion
	tree["kind"] = string(obj.ProtoReflect().Descriptor().Name())
	return tree, nil
}

// ListTree is objects as one `kind: List` document.
func ListTree[T kinds.Object](objs []T) (map[string]any, error) {
	items := make([]any, 0, len(objs))
	for _, o := range objs {
		t, err := Tree(o)
		if err != nil {
			return nil, err
		}
		items = append(items, t)
	}
	return map[string]any{"apiVersion": APIVersion, "kind": "List", "items": items}, nil
}

// MarshalJSON prints a tree as indented JSON with sorted keys, ending in a
// newline.
func MarshalJSON(tree map[string]any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(tree); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// MarshalYAML prints a tree as YAML with sorted keys.
func MarshalYAML(tree map[string]any) ([]byte, error) {
	js, err := json.Marshal(tree)
	if err != nil {
		return nil, err
	}
	out, err := yaml.JSONToYAML(js)
	if err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	return out, nil
}
