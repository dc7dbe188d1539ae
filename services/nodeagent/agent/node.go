package agent

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/sdk/go/client"
)

// Version is the agent's version, published in node_info.
var Version = "v0.1.0"

// LeaseNamespace holds node leases.
const LeaseNamespace = "shoal-node-lease"

func hostMemory() int64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		fs := strings.Fields(s.Text())
		if len(fs) >= 2 && fs[0] == "MemTotal:" {
			kb, _ := strconv.ParseInt(fs[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func kernelVersion() string {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

func osImage() string {
	b, err := os.ReadFile("/etc/os-release")
	if err != nil {
		return ""
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
			return strings.Trim(v, `"`)
		}
	}
	return ""
}

// defaultNodeIP is the source address of the default route, else loopback.
func defaultNodeIP() string {
	c, err := net.Dial("udp", "192.0.2.1:9")
	if err == nil {
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).IP.String()
	}
	return "127.0.0.1"
}

func (a *Agent) nodeStatus(ready bool, msg string) *shoalv1.NodeStatus {
	cpu := a.cfg.CPUMillis
	if cpu == 0 {
		cpu = int64(goruntime.NumCPU()) * 1000
	}
	mem := a.cfg.MemoryBytes
	if mem == 0 {
		mem = hostMemory()
	}
	pods := a.cfg.MaxPods
	if pods == 0 {
		pods = 110
	}
	res := &shoalv1.NodeResources{CpuMillis: cpu, MemoryBytes: mem, Pods: pods}
	hostname, _ := os.Hostname()
	mid, _ := os.ReadFile("/etc/machine-id")
	cond := shoalv1.ConditionStatus_CONDITION_STATUS_TRUE
	reason := "AgentReady"
	if !ready {
		cond, reason = shoalv1.ConditionStatus_CONDITION_STATUS_FALSE, "AgentNotReady"
	}
	return &shoalv1.NodeStatus{
		Capacity: res, Allocatable: proto.Clone(res).(*shoalv1.NodeResources),
		Conditions: []*shoalv1.Condition{{Type: "Ready", Status: cond, Reason: reason, Message: msg,
			LastTransitionTime: timestamppb.Now(), LastProbeTime: timestamppb.Now()}},
		Addresses: []*shoalv1.NodeAddress{
			{Type: shoalv1.NodeAddressType_NODE_ADDRESS_TYPE_INTERNAL_IP, Address: a.nodeIP},
			{Type: shoalv1.NodeAddressType_NODE_ADDRESS_TYPE_HOSTNAME, Address: hostname},
		},
		NodeInfo: &shoalv1.NodeSystemInfo{
			AgentVersion: Version, ContainerRuntimeVersion: a.runtimeVersion, KernelVersion: kernelVersion(),
			OsImage: osImage(), OperatingSystem: goruntime.GOOS, Architecture: goruntime.GOARCH,
			MachineId: strings.TrimSpace(string(mid)),
		},
		DaemonEndpoints: &shoalv1.NodeDaemonEndpoints{AgentPort: int32(a.agentPort)},
	}
}

// register creates the Node, or updates the status of an existing one
// (keeping its spec, which the cluster may have changed).
func (a *Agent) register(ctx context.Context, ready bool, msg string) error {
	nodes := client.For[*shoalv1.Node](a.conn)
	status := a.nodeStatus(ready, msg)
	n, err := nodes.Get(ctx, "", a.cfg.NodeName)
	if client.IsNotFound(err) {
		n = &shoalv1.Node{
			Metadata: &shoalv1.ObjectMeta{Name: a.cfg.NodeName, Labels: map[string]string{"kubernetes.io/hostname": a.cfg.NodeName}},
			Spec:     &shoalv1.NodeSpec{PodCidr: a.cfg.PodCIDR},
			Status:   status,
		}
		if _, err = nodes.Create(ctx, n); err == nil || !client.IsAlreadyExists(err) {
			if err != nil {
				return fmt.Errorf("nodeagent: registering node: %w", err)
			}
			return nil
		}
		n, err = nodes.Get(ctx, "", a.cfg.NodeName)
	}
	if err != nil {
		return fmt.Errorf("nodeagent: reading node: %w", err)
	}
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() == "Ready" && c.GetStatus() == status.Conditions[0].GetStatus() {
			status.Conditions[0].LastTransitionTime = c.GetLastTransitionTime()
		}
	}
	n.Status = status
	n.Metadata.ResourceVersion = ""
	if _, err := nodes.UpdateStatus(ctx, n); err != nil {
		return fmt.Errorf("nodeagent: updating node status: %w", err)
	}
	return nil
}

// renewLease creates or renews the node's Lease.
func (a *Agent) renewLease(ctx context.Context) error {
	leases := client.For[*shoalv1.Lease](a.conn)
	now := timestamppb.Now()
	l, err := leases.Get(ctx, LeaseNamespace, a.cfg.NodeName)
	if client.IsNotFound(err) {
		_, err = leases.Create(ctx, &shoalv1.Lease{
			Metadata: &shoalv1.ObjectMeta{Namespace: LeaseNamespace, Name: a.cfg.NodeName},
			Spec: &shoalv1.LeaseSpec{HolderIdentity: a.cfg.NodeName, LeaseDurationSeconds: int32(a.cfg.LeaseDuration / time.Second),
				AcquireTime: now, RenewTime: now},
		})
		return err
	}
	if err != nil {
		return err
	}
	l.Spec.RenewTime = now
	l.Spec.HolderIdentity = a.cfg.NodeName
	l.Spec.LeaseDurationSeconds = int32(a.cfg.LeaseDuration / time.Second)
	_, err = leases.Update(ctx, l)
	return err
}

// heartbeat renews the lease every interval and refreshes the node's
// status (Ready) every few renewals.
func (a *Agent) heartbeat(ctx context.Context) {
	t := time.NewTicker(a.cfg.LeaseRenewInterval)
	defer t.Stop()
	for i := 1; ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if err := a.renewLease(ctx); err != nil && ctx.Err() == nil {
			a.log.Warn("renewing lease", "err", err)
		}
		if i%6 == 0 {
			if err := a.register(ctx, true, ""); err != nil && ctx.Err() == nil {
				a.log.Warn("refreshing node status", "err", err)
			}
		}
	}
}
