// Package runtime is the node agent's face of containerd: images (imported
// from OCI archives or pulled), containers with their snapshots and specs
// built from composable oci.SpecOpts, tasks whose stdout and stderr are
// copied through FIFOs to writers the caller owns, and re-attachment to the
// tasks of a previous agent process. Everything lives in one containerd
// namespace of the agent's own.
package runtime
