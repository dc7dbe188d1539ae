// Package pods is the node agent's reconciler. Pods bound to the node come
// from an informer; their keys go to a workqueue whose workers run a
// level-triggered sync: compare the pod with what runs in containerd (the
// pause sandbox with its network and volumes, one container per spec
// container), converge, and write the status back only when it changed.
// Container exits and probe results only enqueue the pod's key.
//
// Everything the agent needs to carry on after a restart is in containerd
// labels (pod identity, container attempt, sandbox netns and IP): Adopt
// rebuilds the in-memory state from them and re-attaches to running tasks.
package pods
