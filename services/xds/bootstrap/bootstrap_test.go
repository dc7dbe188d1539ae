package bootstrap

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"google.golang.org/grpc/xds"
	"google.golang.org/protobuf/encoding/protojson"
	"sigs.k8s.io/yaml"

	// Types referenced from typed_extension_protocol_options.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/upstreams/http/v3"
)

func validEnvoy(t *testing.T, doc []byte) *bootstrapv3.Bootstrap {
	t.Helper()
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(doc, &b); err != nil {
		t.Fatalf("not an Envoy bootstrap: %v\n%s", err, doc)
	}
	if err := b.ValidateAll(); err != nil {
		t.Fatalf("Validate: %v", err)
	}
	return &b
}

func TestEnvoyBootstrapValidates(t *testing.T) {
	id := NodeID(Sidecar, "10.244.0.7", "greeter-abc", "default", "")
	for _, delta := range []bool{false, true} {
		doc, err := Envoy("10.96.0.10:15010", id, delta, Options{Zone: "zone-a"})
		if err != nil {
			t.Fatal(err)
		}
		b := validEnvoy(t, doc)
		if b.GetNode().GetId() != id {
			t.Errorf("node id %q, want %q", b.GetNode().GetId(), id)
		}
		want := "GRPC"
		if delta {
			want = "DELTA_GRPC"
		}
		if got := b.GetDynamicResources().GetAdsConfig().GetApiType().String(); got != want {
			t.Errorf("api type %s, want %s", got, want)
		}
	}
}

func TestDeployTemplateValidates(t *testing.T) {
	tmpl, err := os.ReadFile("../../../deploy/envoy/bootstrap.yaml")
	if err != nil {
		t.Fatal(err)
	}
	doc := strings.NewReplacer("${NODE_ID}", NodeID(Sidecar, "10.244.0.7", "greeter-abc", "default", ""),
		"${XDS_HOST}", "xds.shoal-system.svc.cluster.local", "${XDS_PORT}", "15010").Replace(string(tmpl))
	js, err := yaml.YAMLToJSON([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	validEnvoy(t, js)
}

func TestGRPCBootstrapIsAcceptedByGRPCGo(t *testing.T) {
	id := NodeID(Proxyless, "10.244.0.8", "client-0", "default", "")
	doc, err := GRPC("127.0.0.1:15010", id, Options{Zone: "zone-a", Metadata: map[string]string{"app": "client"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := xds.NewXDSResolverWithConfigForTesting(doc); err != nil {
		t.Fatalf("grpc-go rejects the bootstrap: %v\n%s", err, doc)
	}
	var m map[string]any
	_ = json.Unmarshal(doc, &m)
	if m["node"].(map[string]any)["id"] != id {
		t.Errorf("node id missing: %s", doc)
	}
}

func TestBadInput(t *testing.T) {
	tests := []struct{ name, addr, id string }{
		{"no port", "xds.local", "n"},
		{"no node", "xds:15010", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := GRPC(tc.addr, tc.id, Options{}); err == nil {
				t.Error("GRPC accepted it")
			}
			if _, err := Envoy(tc.addr, tc.id, false, Options{}); err == nil {
				t.Error("Envoy accepted it")
			}
		})
	}
}
