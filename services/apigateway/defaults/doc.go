// Package defaults fills the Kubernetes defaults of Shoal objects in place,
// as the apigateway does before validating a create or an update. Only
// unset fields are filled (zero enums, nil optional numbers, nil or empty
// IntOrStrings); a value the client chose is never changed. Applying the
// defaults twice is the same as applying them once.
//
// What is filled:
//
//   - Pod (and the pod template of a ReplicaSet or Deployment):
//     restart_policy ALWAYS; termination_grace_period_seconds 30; per
//     container image_pull_policy ALWAYS when the image has no tag and no
//     digest or the tag "latest", else IF_NOT_PRESENT; container port
//     protocol TCP; for each probe that is set: timeout_seconds 1,
//     period_seconds 10, success_threshold 1, failure_threshold 3, and an
//     http_get scheme HTTP; toleration operator EQUAL.
//   - Service: port protocol TCP; target_port = port; load_balancing.policy
//     ROUND_ROBIN.
//   - ReplicaSet: replicas 1; template pod spec.
//   - Deployment: replicas 1; strategy ROLLING_UPDATE with max_unavailable
//     and max_surge "25%" (rolling update only); revision_history_limit 10;
//     progress_deadline_seconds 600; template pod spec.
//   - Event: type NORMAL; count 1 when 0.
//
// Namespace, Node, Endpoints, Lease and ResourceQuota have no defaults.
// Status is never touched. Missing sub-messages that a default needs are
// created (a Pod's spec, a Service's load_balancing, a Deployment's
// strategy); a missing ReplicaSet or Deployment template is left missing.
package defaults
