// Package selector parses and builds Kubernetes label and field selectors
// for Shoal, on top of k8s.io/apimachinery's labels and fields packages.
//
// Label selectors come in two forms: the string syntax that List and Watch
// requests carry (ParseLabels):
//
//	app=web,tier!=db,env in (a,b),!canary
//
// and the structured shoal.v1.LabelSelector that ReplicaSets, Deployments and
// pod affinity terms hold (FromLabelSelector, ValidateLabelSelector). Both
// give a labels.Selector:
//
//	sel, err := selector.ParseLabels(req.GetLabelSelector())
//	if err != nil {
//		return status.Error(codes.InvalidArgument, err.Error())
//	}
//	if sel.Matches(labels.Set(pod.GetMetadata().GetLabels())) { ... }
//
// Field selectors (ParseFields) take "=", "==" and "!=" terms over a fixed
// set of field names that the caller allows for the kind:
//
//	fs, err := selector.ParseFields("spec.node_name=n1,status.phase!=POD_PHASE_SUCCEEDED",
//		[]string{"metadata.name", "metadata.namespace", "spec.node_name", "status.phase"})
//
// An empty string, a nil LabelSelector and an empty LabelSelector all select
// everything.
package selector
