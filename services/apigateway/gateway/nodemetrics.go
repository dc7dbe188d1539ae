package gateway

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/services/apigateway/registry"
)

// nodeCollector exports how many nodes the watch cache holds by the status
// of their Ready condition, read at scrape time: the series behind the node
// NotReady SLO (Kubernetes gets it from kube-state-metrics'
// kube_node_status_condition). Every gateway replica reports the whole
// cluster, so queries take max() over instances, not sum().
type nodeCollector struct{ reg *registry.Registry }

var nodesDesc = prometheus.NewDesc("shoal_apigateway_nodes",
	"Nodes by the status of their Ready condition: true, false, or unknown (also when a node has no Ready condition yet).",
	[]string{"ready"}, nil)

// nodeScrapeTimeout bounds the cache read of one scrape; resource_version
// "0" answers from the cache without asking etcd, so it is quick.
const nodeScrapeTimeout = 5 * time.Second

func (c *nodeCollector) Describe(ch chan<- *prometheus.Desc) { ch <- nodesDesc }

func (c *nodeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), nodeScrapeTimeout)
	defer cancel()
	res, err := c.reg.List(ctx, "Node", registry.ListOptions{ResourceVersion: "0"})
	if err != nil {
		ch <- prometheus.NewInvalidMetric(nodesDesc, err)
		return
	}
	counts := map[string]int{"true": 0, "false": 0, "unknown": 0}
	for _, o := range res.Items {
		n, ok := o.(*shoalv1.Node)
		if !ok {
			continue
		}
		counts[nodeReady(n)]++
	}
	for ready, n := range counts {
		ch <- prometheus.MustNewConstMetric(nodesDesc, prometheus.GaugeValue, float64(n), ready)
	}
}

func nodeReady(n *shoalv1.Node) string {
	for _, c := range n.GetStatus().GetConditions() {
		if c.GetType() != "Ready" {
			continue
		}
		switch c.GetStatus() {
		case shoalv1.ConditionStatus_CONDITION_STATUS_TRUE:
			return "true"
		case shoalv1.ConditionStatus_CONDITION_STATUS_FALSE:
			return "false"
		}
		return "unknown"
	}
	return "unknown"
}
