package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// Document is one object read from a manifest.
type Document struct {
	// Source names the file ("app.yaml", "<stdin>").
	Source string
	// Index is the document's position in the file, from 1. Items of a
	// List share their document's index and have Item set (from 1).
	Index int
	Item  int
	// APIVersion and Kind are as written (ReplicationController stays
	// ReplicationController here; Object is a ReplicaSet).
	APIVersion string
	Kind       string
	// Object is the Shoal object, without namespace defaulting.
	Object kinds.Object
}

// Describe names the document the way errors do:
// `app.yaml (document 2, Deployment web)`.
func (d Document) Describe() string {
	return location{source: d.Source, index: d.Index, item: d.Item, kind: d.Kind, name: d.Object.GetMetadata().GetName()}.String()
}

// location is where an error was found.
type location struct {
	source      string
	index, item int
	kind, name  string
}

func (l location) String() string {
	var b strings.Builder
	b.WriteString(l.source)
	if l.index > 0 {
		fmt.Fprintf(&b, " (document %d", l.index)
		if l.item > 0 {
			fmt.Fprintf(&b, ", item %d", l.item)
		}
		if l.kind != "" {
			b.WriteString(", " + l.kind)
			if l.name != "" {
				b.WriteString(" " + l.name)
			}
		}
		b.WriteString(")")
	}
	return b.String()
}

// Error is one problem with a manifest: where it is and what is wrong.
type Error struct {
	loc location
	// Path is the field path as written in the document
	// (spec.containers[0].securityContext); empty for a document-level
	// problem.
	Path string
	// Detail says what is wrong: "not supported by Shoal", "Invalid value:
	// ...".
	Detail string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.loc.String() + ": " + e.Detail
	}
	return e.loc.String() + ": " + e.Path + ": " + e.Detail
}

// ErrorList is every problem found in a manifest, one per line.
type ErrorList []*Error

func (l ErrorList) Error() string {
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Decode reads every document of a manifest. source names it in errors.
// All documents are checked; when any is refused the error is an ErrorList
// of every problem and no documents are returned.
func Decode(source string, data []byte) ([]Document, error) {
	raws, err := split(data)
	if err != nil {
		return nil, ErrorList{{loc: location{source: source}, Detail: err.Error()}}
	}
	var docs []Document
	var errs ErrorList
	for i, raw := range raws {
		loc := location{source: source, index: i + 1}
		tree, err := parse(raw)
		if err != nil {
			errs = append(errs, &Error{loc: loc, Detail: err.Error()})
			continue
		}
		d, e := convertDocument(loc, tree)
		docs = append(docs, d...)
		errs = append(errs, e...)
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return docs, nil
}

// ReadFrom is Decode over a reader.
func ReadFrom(source string, r io.Reader) ([]Document, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", source, err)
	}
	return Decode(source, data)
}

// split cuts a stream into its non-empty documents: YAML documents
// separated by `---`, or a stream of JSON values.
func split(data []byte) ([][]byte, error) {
	trimmed := bytes.TrimSpace(data)
	if len(trimmed) > 0 && (trimmed[0] == '{' || trimmed[0] == '[') {
		var out [][]byte
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		for {
			var raw json.RawMessage
			if err := dec.Decode(&raw); err == io.EOF {
				return out, nil
			} else if err != nil {
				return nil, fmt.Errorf("invalid JSON: %w", err)
			}
			out = append(out, raw)
		}
	}
	var out [][]byte
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if !emptyYAML(doc) {
			out = append(out, doc)
		}
	}
}

// emptyYAML is a document of only comments, blank lines and separators.
func emptyYAML(doc []byte) bool {
	for _, line := range strings.Split(string(doc), "\n") {
		line = strings.TrimSpace(line)
		if line != "" && !strings.HasPrefix(line, "#") && line != "---" && line != "..." {
			return false
		}
	}
	return true
}

// parse turns one document into a generic tree with exact numbers.
func parse(raw []byte) (map[string]any, error) {
	js, err := yaml.YAMLToJSON(raw)
	if err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(js))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("invalid JSON: %w", err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a document must be an object with apiVersion and kind, not %s", describeValue(v))
	}
	return m, nil
}
