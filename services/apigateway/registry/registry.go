package registry

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/timestamppb"
	"k8s.io/apimachinery/pkg/fields"
	kvalidation "k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	shoalv1 "github.com/shoalmesh/shoal/gen/go/shoal/v1"
	"github.com/shoalmesh/shoal/observability"
	"github.com/shoalmesh/shoal/sdk/go/kinds"
	"github.com/shoalmesh/shoal/sdk/go/selector"
	"github.com/shoalmesh/shoal/services/apigateway/defaults"
	"github.com/shoalmesh/shoal/services/apigateway/ipalloc"
	"github.com/shoalmesh/shoal/services/apigateway/storage"
	"github.com/shoalmesh/shoal/services/apigateway/validation"
)

// Config builds a Registry.
type Config struct {
	// ServiceCIDR is the range service cluster IPs come from.
	ServiceCIDR string
	Cacher      storage.CacherConfig
	Logger      *slog.Logger
	// Now is the clock (tests pin it); nil means time.Now.
	Now func() time.Time
}

// Registry serves every kind over one etcd.
type Registry struct {
	resources map[string]*resource
	ips       *ipalloc.Allocator
	now       func() time.Time
	log       *slog.Logger
}

type resource struct {
	kind     kinds.Kind
	store    *storage.Store
	cache    *storage.Cacher
	strategy strategy
}

// New builds the registry; Run starts its watch caches.
func New(cli *clientv3.Client, cfg Config) (*Registry, error) {
	ips, err := ipalloc.New(cfg.ServiceCIDR)
	if err != nil {
		return nil, err
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Cacher.Logger = cfg.Logger
	r := &Registry{resources: map[string]*resource{}, ips: ips, now: cfg.Now, log: cfg.Logger}
	strategies := strategies()
	for _, k := range kinds.All() {
		st := storage.NewStore(cli, k, cfg.Cacher.Metrics)
		r.resources[k.Name] = &resource{kind: k, store: st, cache: storage.NewCacher(st, cfg.Cacher), strategy: strategies[k.Name]}
	}
	return r, nil
}

// Run runs every watch cache until ctx ends.
func (r *Registry) Run(ctx context.Context) {
	done := make(chan struct{})
	for _, res := range r.resources {
		go func() {
			res.cache.Run(ctx)
			done <- struct{}{}
		}()
	}
	for range r.resources {
		<-done
	}
}

// WaitReady blocks until every cache holds its first list.
func (r *Registry) WaitReady(ctx context.Context) error {
	for _, res := range r.resources {
		select {
		case <-res.cache.Ready():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Watchers counts open watches per kind.
func (r *Registry) Watchers() map[string]int64 {
	out := map[string]int64{}
	for name, res := range r.resources {
		out[name] = res.cache.Watchers()
	}
	return out
}

func (r *Registry) resource(kind string) (*resource, error) {
	res, ok := r.resources[kind]
	if !ok {
		return nil, fmt.Errorf("registry: unknown kind %q", kind)
	}
	return res, nil
}

// checkScope validates the namespace of a request against the kind.
func checkScope(k kinds.Kind, path, namespace string) *Error {
	if k.Namespaced && namespace == "" {
		errs := field.ErrorList{field.Required(field.NewPath(path), "namespaced kind "+k.Name+" needs a namespace")}
		return &Error{Reason: ReasonInvalid, Message: errs.ToAggregate().Error(), Fields: errs}
	}
	if !k.Namespaced && namespace != "" {
		errs := field.ErrorList{field.Forbidden(field.NewPath(path), k.Name+" is cluster-scoped: namespace must be empty")}
		return &Error{Reason: ReasonInvalid, Message: errs.ToAggregate().Error(), Fields: errs}
	}
	return nil
}

func checkName(name string) *Error {
	if name == "" {
		errs := field.ErrorList{field.Required(field.NewPath("name"), "")}
		return &Error{Reason: ReasonInvalid, Message: errs.ToAggregate().Error(), Fields: errs}
	}
	return nil
}

// Get reads one object.
func (r *Registry) Get(ctx context.Context, kind, namespace, name string) (kinds.Object, error) {
	res, err := r.resource(kind)
	if err != nil {
		return nil, err
	}
	if e := checkName(name); e != nil {
		return nil, e
	}
	if res.kind.Namespaced && namespace == "" {
		return nil, checkScope(res.kind, "namespace", namespace)
	}
	obj, err := res.store.Get(ctx, namespace, name)
	return obj, fromStorage(err, kind, namespace, name)
}

// Create stores a new object. It takes ownership of obj (a request the
// caller decoded for this call): obj is defaulted and filled in place and,
// on success, returned as stored. Not copying it saves a deep clone per
// write, a fifth of Create's own CPU.
func (r *Registry) Create(ctx context.Context, kind string, obj kinds.Object) (kinds.Object, error) {
	res, err := r.resource(kind)
	if err != nil {
		return nil, err
	}
	m := kinds.Meta(obj)
	generated := m.GetName() == "" && m.GetGenerateName() != ""
	defaults.Apply(obj)
	if errs := validation.Object(obj); len(errs) > 0 {
		return nil, invalid(kind, m.GetName()+m.GetGenerateName(), errs)
	}
	now := r.now()
	m.Uid = uuid.NewString()
	m.CreationTimestamp = timestamppb.New(now)
	m.Generation = 1
	m.ResourceVersion = ""
	m.DeletionTimestamp = nil
	m.DeletionGracePeriodSeconds = nil
	recordTrace(ctx, m)
	if res.strategy.prepareCreate != nil {
		res.strategy.prepareCreate(obj, now)
	}
	if res.kind.Namespaced {
		if err := r.namespaceOpen(ctx, m.GetNamespace()); err != nil {
			return nil, err
		}
	}
	for attempt := 0; ; attempt++ {
		if generated {
			m.Name = m.GetGenerateName() + randomSuffix()
		}
		side, auto, err := r.allocate(obj)
		if err != nil {
			return nil, err
		}
		out, err := res.store.Create(ctx, obj, side)
		var taken *storage.SideKeyTakenError
		switch {
		case err == nil:
			return out, nil
		case errors.Is(err, storage.ErrExists) && generated && attempt < 8:
			continue
		case errors.As(err, &taken) && auto && attempt < 32:
			obj.(*shoalv1.Service).Spec.ClusterIp = ""
			continue
		case errors.As(err, &taken):
			return nil, invalidField("spec.cluster_ip", obj.(*shoalv1.Service).GetSpec().GetClusterIp(), "provided IP is already allocated")
		}
		return nil, fromStorage(err, kind, m.GetNamespace(), m.GetName())
	}
}

// allocate picks the side keys of a new object: a Service's cluster IP.
func (r *Registry) allocate(obj kinds.Object) (side []storage.SideKey, auto bool, err error) {
	svc, ok := obj.(*shoalv1.Service)
	if !ok {
		return nil, false, nil
	}
	owner := svc.GetMetadata().GetNamespace() + "/" + svc.GetMetadata().GetName()
	switch ip := svc.GetSpec().GetClusterIp(); ip {
	case "None":
		return nil, false, nil
	case "":
		pick := r.ips.Random()
		svc.Spec.ClusterIp = pick.String()
		return []storage.SideKey{{Key: ipalloc.Key(pick), Value: owner}}, true, nil
	default:
		addr, perr := netip.ParseAddr(ip)
		if perr != nil || !r.ips.Contains(addr) {
			return nil, false, invalidField("spec.cluster_ip", ip, "must be an address in the service range "+r.ips.CIDR().String())
		}
		return []storage.SideKey{{Key: ipalloc.Key(addr), Value: owner}}, false, nil
	}
}

// releaseKeys are the side keys removed with an object.
func releaseKeys(obj kinds.Object) []string {
	if svc, ok := obj.(*shoalv1.Service); ok {
		if addr, err := netip.ParseAddr(svc.GetSpec().GetClusterIp()); err == nil {
			return []string{ipalloc.Key(addr)}
		}
	}
	return nil
}

// namespaceOpen checks that a namespace exists and takes new objects. The
// watch cache answers the common case without a round trip to etcd; a
// namespace the cache has not seen yet (created a moment ago) is read from
// etcd, so "create namespace, then create in it" never fails.
func (r *Registry) namespaceOpen(ctx context.Context, name string) error {
	nsRes := r.resources["Namespace"]
	if cached, ok := nsRes.cache.Get("", name); ok {
		if cached.(*shoalv1.Namespace).GetStatus().GetPhase() == shoalv1.NamespacePhase_NAMESPACE_PHASE_TERMINATING {
			return precondition("namespace %q is being terminated: no new objects", name)
		}
		return nil
	}
	ns, err := nsRes.store.Get(ctx, "", name)
	if errors.Is(err, storage.ErrNotFound) {
		return &Error{Reason: ReasonNotFound, Message: fmt.Sprintf("namespace %q not found", name), cause: err}
	}
	if err != nil {
		return fromStorage(err, "Namespace", "", name)
	}
	if ns.(*shoalv1.Namespace).GetStatus().GetPhase() == shoalv1.NamespacePhase_NAMESPACE_PHASE_TERMINATING {
		return precondition("namespace %q is being terminated: no new objects", name)
	}
	return nil
}

func randomSuffix() string {
	const alphabet = "bcdfghjklmnpqrstvwxz2456789"
	b := make([]byte, 5)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// Update replaces metadata and spec; status stays as stored. Like Create it
// takes ownership of obj (it is defaulted in place); each attempt works on a
// copy of it, so a retried conflict starts from the caller's object.
func (r *Registry) Update(ctx context.Context, kind string, obj kinds.Object) (kinds.Object, error) {
	res, err := r.resource(kind)
	if err != nil {
		return nil, err
	}
	m := kinds.Meta(obj)
	if m.GetName() == "" {
		errs := field.ErrorList{field.Required(field.NewPath("metadata", "name"), "")}
		return nil, invalid(kind, "", errs)
	}
	if e := checkScope(res.kind, "metadata.namespace", m.GetNamespace()); e != nil {
		return nil, e
	}
	expect, err := storage.ParseResourceVersion(m.GetResourceVersion())
	if err != nil {
		return nil, invalidField("metadata.resource_version", m.GetResourceVersion(), "must be a revision number")
	}
	defaults.Apply(obj)
	out, deleted, err := res.store.Update(ctx, m.GetNamespace(), m.GetName(), expect, func(cur kinds.Object) (storage.Mutation, error) {
		next := proto.Clone(obj).(kinds.Object)
		nm, cm := kinds.Meta(next), kinds.Meta(cur)
		nm.Uid = cm.GetUid()
		nm.CreationTimestamp = cm.GetCreationTimestamp()
		nm.DeletionTimestamp = cm.GetDeletionTimestamp()
		nm.DeletionGracePeriodSeconds = cm.DeletionGracePeriodSeconds
		nm.Generation = cm.GetGeneration()
		nm.ResourceVersion = ""
		kinds.SetStatus(next, cur)
		if res.strategy.prepareUpdate != nil {
			res.strategy.prepareUpdate(cur, next)
		}
		errs := validation.Object(next)
		errs = append(errs, validation.Update(cur, next)...)
		if len(errs) > 0 {
			return storage.Mutation{}, invalid(kind, nm.GetName(), errs)
		}
		if !proto.Equal(kinds.Spec(cur).Interface(), kinds.Spec(next).Interface()) {
			nm.Generation++
			recordTrace(ctx, nm)
		}
		if r.finished(res, next) {
			return storage.Mutation{Delete: true, DeleteKeys: releaseKeys(cur)}, nil
		}
		return storage.Mutation{Object: next}, nil
	})
	if err != nil {
		return nil, fromStorage(err, kind, m.GetNamespace(), m.GetName())
	}
	_ = deleted
	return out, nil
}

// finished reports whether a deleted object may now go: deletion requested,
// no finalizers, nothing holding it.
func (r *Registry) finished(res *resource, obj kinds.Object) bool {
	m := obj.GetMetadata()
	if m.GetDeletionTimestamp() == nil || len(m.GetFinalizers()) > 0 {
		return false
	}
	return res.strategy.holdDeletion == nil || !res.strategy.holdDeletion(obj)
}

// UpdateStatus replaces status only.
func (r *Registry) UpdateStatus(ctx context.Context, kind string, in kinds.Object) (kinds.Object, error) {
	res, err := r.resource(kind)
	if err != nil {
		return nil, err
	}
	m := kinds.Meta(in)
	if m.GetName() == "" {
		return nil, invalid(kind, "", field.ErrorList{field.Required(field.NewPath("metadata", "name"), "")})
	}
	if e := checkScope(res.kind, "metadata.namespace", m.GetNamespace()); e != nil {
		return nil, e
	}
	expect, err := storage.ParseResourceVersion(m.GetResourceVersion())
	if err != nil {
		return nil, invalidField("metadata.resource_version", m.GetResourceVersion(), "must be a revision number")
	}
	if errs := validation.Status(in); len(errs) > 0 {
		return nil, invalid(kind, m.GetName(), errs)
	}
	out, _, err := res.store.Update(ctx, m.GetNamespace(), m.GetName(), expect, func(cur kinds.Object) (storage.Mutation, error) {
		kinds.SetStatus(cur, in)
		return storage.Mutation{Object: cur}, nil
	})
	return out, fromStorage(err, kind, m.GetNamespace(), m.GetName())
}

// DeleteOptions are a delete request's knobs.
type DeleteOptions struct {
	GracePeriodSeconds *int64
	Preconditions      *shoalv1.Preconditions
	Propagation        shoalv1.PropagationPolicy
}

// Delete deletes an object, or marks it deleting while finalizers or a
// grace period hold it. It returns the object as last stored.
func (r *Registry) Delete(ctx context.Context, kind, namespace, name string, opts DeleteOptions) (kinds.Object, error) {
	res, err := r.resource(kind)
	if err != nil {
		return nil, err
	}
	if e := checkName(name); e != nil {
		return nil, e
	}
	if res.kind.Namespaced && namespace == "" {
		return nil, checkScope(res.kind, "namespace", namespace)
	}
	if g := opts.GracePeriodSeconds; g != nil && *g < 0 {
		return nil, invalidField("grace_period_seconds", strconv.FormatInt(*g, 10), "must be >= 0")
	}
	expect, err := storage.ParseResourceVersion(opts.Preconditions.GetResourceVersion())
	if err != nil {
		return nil, invalidField("preconditions.resource_version", opts.Preconditions.GetResourceVersion(), "must be a revision number")
	}
	out, _, err := res.store.Update(ctx, namespace, name, expect, func(cur kinds.Object) (storage.Mutation, error) {
		m := kinds.Meta(cur)
		if uid := opts.Preconditions.GetUid(); uid != "" && uid != m.GetUid() {
			return storage.Mutation{}, precondition("precondition failed: uid %q, the object's uid is %q", uid, m.GetUid())
		}
		switch opts.Propagation {
		case shoalv1.PropagationPolicy_PROPAGATION_POLICY_FOREGROUND:
			addFinalizer(m, FinalizerForeground)
		case shoalv1.PropagationPolicy_PROPAGATION_POLICY_ORPHAN:
			addFinalizer(m, FinalizerOrphan)
		}
		if res.strategy.beforeDelete != nil {
			res.strategy.beforeDelete(cur)
		}
		var grace int64
		if res.strategy.deletionGrace != nil {
			grace = res.strategy.deletionGrace(cur, opts.GracePeriodSeconds)
		}
		if m.DeletionGracePeriodSeconds != nil && m.GetDeletionGracePeriodSeconds() < grace {
			grace = m.GetDeletionGracePeriodSeconds() // a delete may shorten the grace, never lengthen it
		}
		if m.DeletionTimestamp == nil || m.DeletionGracePeriodSeconds == nil || grace < m.GetDeletionGracePeriodSeconds() {
			m.DeletionTimestamp = timestamppb.New(r.now().Add(time.Duration(grace) * time.Second))
			m.DeletionGracePeriodSeconds = proto.Int64(grace)
		}
		if r.finished(res, cur) {
			return storage.Mutation{Delete: true, DeleteKeys: releaseKeys(cur)}, nil
		}
		return storage.Mutation{Object: cur}, nil
	})
	if err == nil && kind == "Namespace" {
		// Creates check namespaces in the watch cache: let it see the
		// Terminating phase before answering, so no create through this
		// gateway slips into a namespace after its delete returned.
		rv, _ := storage.ParseResourceVersion(out.GetMetadata().GetResourceVersion())
		_ = res.cache.WaitFresh(ctx, rv)
	}
	return out, fromStorage(err, kind, namespace, name)
}

// BindPod assigns a pod to a node, once.
func (r *Registry) BindPod(ctx context.Context, namespace, name, node, uid string) (kinds.Object, error) {
	res := r.resources["Pod"]
	if e := checkName(name); e != nil {
		return nil, e
	}
	if namespace == "" {
		return nil, checkScope(res.kind, "namespace", namespace)
	}
	if node == "" {
		return nil, invalid("Binding", name, field.ErrorList{field.Required(field.NewPath("node_name"), "")})
	}
	if msgs := kvalidation.IsDNS1123Subdomain(node); len(msgs) > 0 {
		return nil, invalid("Binding", name, field.ErrorList{field.Invalid(field.NewPath("node_name"), node, strings.Join(msgs, "; "))})
	}
	out, _, err := res.store.Update(ctx, namespace, name, 0, func(cur kinds.Object) (storage.Mutation, error) {
		p := cur.(*shoalv1.Pod)
		switch {
		case uid != "" && uid != p.GetMetadata().GetUid():
			return storage.Mutation{}, precondition("pod %q has uid %q, not %q", name, p.GetMetadata().GetUid(), uid)
		case p.GetMetadata().GetDeletionTimestamp() != nil:
			return storage.Mutation{}, precondition("pod %q is being deleted", name)
		case p.GetSpec().GetNodeName() != "":
			return storage.Mutation{}, precondition("pod %q is already bound to node %q", name, p.GetSpec().GetNodeName())
		}
		if p.Spec == nil {
			p.Spec = &shoalv1.PodSpec{}
		}
		p.Spec.NodeName = node
		recordTrace(ctx, p.Metadata)
		if p.Status == nil {
			p.Status = &shoalv1.PodStatus{}
		}
		setCondition(p.Status, scheduledCondition(r.now()))
		return storage.Mutation{Object: p}, nil
	})
	return out, fromStorage(err, "Pod", namespace, name)
}

// recordTrace notes on the object the trace of the request that changed
// its spec, so the components that act on the change continue that trace.
func recordTrace(ctx context.Context, m *shoalv1.ObjectMeta) {
	if tp := observability.TraceParent(ctx); tp != "" {
		if m.Annotations == nil {
			m.Annotations = map[string]string{}
		}
		m.Annotations[observability.TraceAnnotation] = tp
	}
}

func setCondition(st *shoalv1.PodStatus, c *shoalv1.Condition) {
	for i, have := range st.Conditions {
		if have.GetType() == c.GetType() {
			st.Conditions[i] = c
			return
		}
	}
	st.Conditions = append(st.Conditions, c)
}

// ListOptions select objects.
type ListOptions struct {
	Namespace       string
	LabelSelector   string
	FieldSelector   string
	PageSize        int32
	PageToken       string
	ResourceVersion string
}

// ListResult is a page.
type ListResult struct {
	Items           []kinds.Object
	ResourceVersion string
	NextPageToken   string
}

type pageToken struct {
	Rev int64  `json:"rev"`
	Key string `json:"key"`
}

func (r *Registry) predicate(res *resource, namespace, labelSel, fieldSel string) (storage.Predicate, error) {
	if !res.kind.Namespaced && namespace != "" {
		return storage.Predicate{}, checkScope(res.kind, "namespace", namespace)
	}
	p := storage.Predicate{Namespace: namespace}
	ls, err := selector.ParseLabels(labelSel)
	if err != nil {
		return p, invalidField("label_selector", labelSel, err.Error())
	}
	p.Labels = ls
	allowed := []string{"metadata.name"}
	if res.kind.Namespaced {
		allowed = append(allowed, "metadata.namespace")
	}
	allowed = append(allowed, res.strategy.fields...)
	fs, err := selector.ParseFields(fieldSel, allowed)
	if err != nil {
		return p, invalidField("field_selector", fieldSel, err.Error())
	}
	p.Fields = fs
	extra := res.strategy.extraFields
	p.FieldSet = func(o kinds.Object) fields.Set {
		m := o.GetMetadata()
		s := fields.Set{"metadata.name": m.GetName(), "metadata.namespace": m.GetNamespace()}
		if extra != nil {
			extra(o, s)
		}
		return s
	}
	return p, nil
}

// List returns a page of matching objects. The first page comes from the
// watch cache; later pages are read from etcd at the first page's revision
// so a paginated list is one consistent snapshot.
func (r *Registry) List(ctx context.Context, kind string, o ListOptions) (*ListResult, error) {
	res, err := r.resource(kind)
	if err != nil {
		return nil, err
	}
	pred, err := r.predicate(res, o.Namespace, o.LabelSelector, o.FieldSelector)
	if err != nil {
		return nil, err
	}
	if o.PageSize < 0 {
		return nil, invalidField("page_size", strconv.Itoa(int(o.PageSize)), "must be >= 0")
	}
	var (
		items   []kinds.Object
		rev     int64
		lastKey string
	)
	if o.PageToken != "" {
		tok, err := decodeToken(o.PageToken)
		if err != nil || !strings.HasPrefix(tok.Key, res.store.NamespacePrefix(o.Namespace)) || tok.Rev <= 0 {
			return nil, invalidField("page_token", o.PageToken, "not a page token of this list")
		}
		var more bool
		items, rev, lastKey, more, err = res.store.ListAt(ctx, res.store.NamespacePrefix(o.Namespace), tok.Rev, tok.Key, int(o.PageSize), pred.Matches)
		if err != nil {
			return nil, fromStorage(err, kind, o.Namespace, "")
		}
		if !more {
			lastKey = ""
		}
	} else {
		if _, err := storage.ParseResourceVersion(o.ResourceVersion); err != nil {
			return nil, invalidField("resource_version", o.ResourceVersion, "must be a revision number")
		}
		items, rev, lastKey, err = res.cache.List(ctx, pred, o.ResourceVersion, int(o.PageSize))
		if err != nil {
			return nil, fromStorage(err, kind, o.Namespace, "")
		}
	}
	out := &ListResult{Items: items, ResourceVersion: strconv.FormatInt(rev, 10)}
	if lastKey != "" {
		out.NextPageToken = encodeToken(pageToken{Rev: rev, Key: lastKey})
	}
	return out, nil
}

func encodeToken(t pageToken) string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeToken(s string) (pageToken, error) {
	var t pageToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return t, err
	}
	err = json.Unmarshal(b, &t)
	return t, err
}

// WatchOptions select what a watch streams.
type WatchOptions struct {
	Namespace       string
	LabelSelector   string
	FieldSelector   string
	ResourceVersion string
	AllowBookmarks  bool
}

// Watch streams changes until ctx ends or send fails.
func (r *Registry) Watch(ctx context.Context, kind string, o WatchOptions, send storage.SendFunc) error {
	res, err := r.resource(kind)
	if err != nil {
		return err
	}
	pred, err := r.predicate(res, o.Namespace, o.LabelSelector, o.FieldSelector)
	if err != nil {
		return err
	}
	if _, err := storage.ParseResourceVersion(o.ResourceVersion); err != nil {
		return invalidField("resource_version", o.ResourceVersion, "must be a revision number")
	}
	return fromStorage(res.cache.Watch(ctx, pred, o.ResourceVersion, o.AllowBookmarks, send), kind, o.Namespace, "")
}
