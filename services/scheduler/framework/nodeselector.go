package framework

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
)

// NodeSelector is a compiled shoal.v1.NodeSelector: a node matches when any
// of its terms does. A selector without terms matches no node, as in
// Kubernetes.
type NodeSelector struct {
	Terms []NodeSelectorTerm
}

// NodeSelectorTerm matches a node when every requirement holds. A term
// without requirements matches no node.
type NodeSelectorTerm struct {
	exprs  []nodeRequirement
	fields []nodeRequirement
}

type nodeRequirement struct {
	key    string
	op     shoalv1.NodeSelectorOperator
	values []string
	num    int64 // GT/LT operand
}

// CompileNodeSelector checks and compiles ns.
func CompileNodeSelector(ns *shoalv1.NodeSelector) (*NodeSelector, error) {
	out := &NodeSelector{}
	for i, t := range ns.GetNodeSelectorTerms() {
		ct, err := compileTerm(t)
		if err != nil {
			return nil, fmt.Errorf("term %d: %w", i, err)
		}
		out.Terms = append(out.Terms, ct)
	}
	return out, nil
}

func compileTerm(t *shoalv1.NodeSelectorTerm) (NodeSelectorTerm, error) {
	var out NodeSelectorTerm
	for _, r := range t.GetMatchExpressions() {
		nr, err := compileRequirement(r)
		if err != nil {
			return out, err
		}
		out.exprs = append(out.exprs, nr)
	}
	for _, r := range t.GetMatchFields() {
		if r.GetKey() != "metadata.name" {
			return out, fmt.Errorf("match_fields key %q: only metadata.name is supported", r.GetKey())
		}
		switch r.GetOperator() {
		case shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_IN, shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_NOT_IN:
		default:
			return out, fmt.Errorf("match_fields operator %s: only IN and NOT_IN are supported", r.GetOperator())
		}
		nr, err := compileRequirement(r)
		if err != nil {
			return out, err
		}
		out.fields = append(out.fields, nr)
	}
	return out, nil
}

func compileRequirement(r *shoalv1.NodeSelectorRequirement) (nodeRequirement, error) {
	nr := nodeRequirement{key: r.GetKey(), op: r.GetOperator(), values: r.GetValues()}
	switch r.GetOperator() {
	case shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_IN, shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_NOT_IN:
		if len(nr.values) == 0 {
			return nr, fmt.Errorf("key %q: %s needs values", nr.key, nr.op)
		}
	case shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_EXISTS, shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_DOES_NOT_EXIST:
		if len(nr.values) != 0 {
			return nr, fmt.Errorf("key %q: %s takes no values", nr.key, nr.op)
		}
	case shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_GT, shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_LT:
		if len(nr.values) != 1 {
			return nr, fmt.Errorf("key %q: %s takes exactly one value", nr.key, nr.op)
		}
		n, err := strconv.ParseInt(nr.values[0], 10, 64)
		if err != nil {
			return nr, fmt.Errorf("key %q: %s value %q is not an integer", nr.key, nr.op, nr.values[0])
		}
		nr.num = n
	default:
		return nr, errors.New("operator is required")
	}
	return nr, nil
}

// Matches reports whether the node with these labels and name matches.
func (s *NodeSelector) Matches(nodeLabels map[string]string, nodeName string) bool {
	for i := range s.Terms {
		if s.Terms[i].Matches(nodeLabels, nodeName) {
			return true
		}
	}
	return false
}

// Matches reports whether every requirement of the term holds.
func (t *NodeSelectorTerm) Matches(nodeLabels map[string]string, nodeName string) bool {
	if len(t.exprs) == 0 && len(t.fields) == 0 {
		return false
	}
	for _, r := range t.exprs {
		v, ok := nodeLabels[r.key]
		if !r.matches(v, ok) {
			return false
		}
	}
	for _, r := range t.fields {
		if !r.matches(nodeName, true) {
			return false
		}
	}
	return true
}

func (r *nodeRequirement) matches(v string, present bool) bool {
	switch r.op {
	case shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_IN:
		return present && slices.Contains(r.values, v)
	case shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_NOT_IN:
		return !present || !slices.Contains(r.values, v)
	case shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_EXISTS:
		return present
	case shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_DOES_NOT_EXIST:
		return !present
	case shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_GT, shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_LT:
		if !present {
			return false
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return false
		}
		if r.op == shoalv1.NodeSelectorOperator_NODE_SELECTOR_OPERATOR_GT {
			return n > r.num
		}
		return n < r.num
	}
	return false
}
