// Package manifest turns manifest files into Shoal objects.
//
// A file holds one or more YAML documents (or JSON objects). Each document is
// either a Kubernetes manifest of a kind Shoal has (apiVersion v1: Pod,
// Service, Namespace, ReplicationController; apps/v1: Deployment, ReplicaSet)
// or a Shoal object (apiVersion shoal.io/v1, any kind, fields by their proto
// JSON names, as `shoalctl get -o yaml` prints them). A `kind: List` document
// holds more documents under `items`.
//
// The conversion is driven by the target message's descriptor, not by code
// per field: the document is read as a generic JSON tree and walked alongside
// the proto message, each key matched to the field with that JSON name (so
// Kubernetes' `containerPort` is proto's `container_port`). A few
// translations work on types rather than fields: Kubernetes enum words
// ("IfNotPresent", "NoSchedule") become the proto value with that suffix
// (IMAGE_PULL_POLICY_IF_NOT_PRESENT), a bare number or string becomes an
// IntOrString, resource quantities ("500m", "128Mi") become cpu_millis and
// memory_bytes. A key that has no field in Shoal is an error naming its path
// and document:
//
//	app.yaml (document 2, Deployment web): spec.template.spec.containers[0].securityContext: not supported by Shoal
//
// Nothing is silently dropped, with two deliberate exceptions that mirror
// kubectl apply: the `status` block and server-set metadata (uid,
// resourceVersion, creationTimestamp, generation, managedFields...) are
// ignored, and a handful of Kubernetes fields are accepted when they hold the
// only value Shoal implements (Service `type: ClusterIP`, Pod
// `dnsPolicy: ClusterFirst`...; see acceptedDefaults).
//
//	docs, err := manifest.Decode("app.yaml", data)
//	for _, d := range docs {
//		fmt.Println(d.Describe(), kinds.Key(d.Object))
//	}
package manifest
