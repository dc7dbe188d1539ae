package manifest

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// golden compares got with testdata's file, or rewrites it under -update.
func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (run go test -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// TestAccepted: every manifest in testdata/accepted converts, and its Shoal
// objects are the golden ones.
func TestAccepted(t *testing.T) {
	files, err := filepath.Glob("testdata/accepted/*.*")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		if strings.HasSuffix(file, ".golden") {
			continue
		}
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			docs, err := Decode(filepath.Base(file), data)
			if err != nil {
				t.Fatalf("refused:\n%v", err)
			}
			var out bytes.Buffer
			for _, d := range docs {
				tree, err := Tree(d.Object)
				if err != nil {
					t.Fatal(err)
				}
				js, err := MarshalJSON(tree)
				if err != nil {
					t.Fatal(err)
				}
				fmt.Fprintf(&out, "# %s\n%s", d.Describe(), js)

				// What Tree prints, Decode reads back to the same object.
				back, err := Decode("tree", js)
				if err != nil {
					t.Fatalf("round trip of %s: %v", d.Describe(), err)
				}
				if !proto.Equal(back[0].Object, d.Object) {
					t.Errorf("round trip of %s changed the object:\n%v\n%v", d.Describe(), back[0].Object, d.Object)
				}
			}
			golden(t, strings.TrimSuffix(file, filepath.Ext(file))+".golden", out.Bytes())
		})
	}
}

// TestRefused: every manifest in testdata/refused is refused with exactly
// the golden error lines.
func TestRefused(t *testing.T) {
	files, err := filepath.Glob("testdata/refused/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			docs, err := Decode(filepath.Base(file), data)
			if err == nil {
				t.Fatalf("accepted %d documents, want an error", len(docs))
			}
			if docs != nil {
				t.Errorf("documents returned with an error: %v", docs)
			}
			golden(t, strings.TrimSuffix(file, ".yaml")+".golden", []byte(err.Error()+"\n"))
		})
	}
}

func TestEnumWords(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"IfNotPresent", "IF_NOT_PRESENT"},
		{"TCP", "TCP"},
		{"DirectoryOrCreate", "DIRECTORY_OR_CREATE"},
		{"NoSchedule", "NO_SCHEDULE"},
		{"DoesNotExist", "DOES_NOT_EXIST"},
		{"HTTPGet", "HTTP_GET"},
		{"Gt", "GT"},
		{"ALWAYS", "ALWAYS"},
	} {
		if got := upperSnake(tc.in); got != tc.want {
			t.Errorf("upperSnake(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	for _, tc := range []struct{ in, want string }{
		{"IF_NOT_PRESENT", "IfNotPresent"},
		{"TCP", "TCP"},
		{"ROLLING_UPDATE", "RollingUpdate"},
	} {
		if got := camelWord(tc.in); got != tc.want {
			t.Errorf("camelWord(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestJSONPath(t *testing.T) {
	md := (&shoalv1.Deployment{}).ProtoReflect().Descriptor()
	for _, tc := range []struct{ in, want string }{
		{"spec.template.spec.containers[0].ports[1].container_port", "spec.template.spec.containers[0].ports[1].containerPort"},
		{"metadata.labels[app.kubernetes.io/name]", "metadata.labels[app.kubernetes.io/name]"},
		{"spec.strategy.rolling_update.max_surge", "spec.strategy.rollingUpdate.maxSurge"},
		{"spec.selector.match_labels", "spec.selector.matchLabels"},
		{"spec.nonsense.deeper", "spec.nonsense.deeper"},
		{"", ""},
	} {
		if got := JSONPath(md, tc.in); got != tc.want {
			t.Errorf("JSONPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestReplicationControllerIsReplicaSet(t *testing.T) {
	docs, err := Decode("rc.yaml", []byte(`apiVersion: v1
kind: ReplicationController
metadata: {name: rc}
spec:
  selector: {app: x}
  template:
    metadata: {labels: {app: x}}
    spec: {containers: [{name: c, image: i}]}
`))
	if err != nil {
		t.Fatal(err)
	}
	rs, ok := docs[0].Object.(*shoalv1.ReplicaSet)
	if !ok {
		t.Fatalf("got a %T", docs[0].Object)
	}
	if got := rs.GetSpec().GetSelector().GetMatchLabels()["app"]; got != "x" {
		t.Fatalf("selector = %v", rs.GetSpec().GetSelector())
	}
	if docs[0].Kind != "ReplicationController" || docs[0].Describe() != "rc.yaml (document 1, ReplicationController rc)" {
		t.Fatalf("document = %+v", docs[0])
	}
}
