package storage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// RegistryPrefix is where every object lives in etcd.
const RegistryPrefix = "/shoal/registry/"

// Store is the etcd storage of one kind.
type Store struct {
	cli     *clientv3.Client
	kind    kinds.Kind
	prefix  string
	metrics *Metrics
}

// NewStore returns the store of kind over cli; metrics may be nil.
func NewStore(cli *clientv3.Client, kind kinds.Kind, metrics *Metrics) *Store {
	return &Store{cli: cli, kind: kind, prefix: RegistryPrefix + kind.Resource + "/", metrics: metrics}
}

// Kind is the kind this store holds.
func (s *Store) Kind() kinds.Kind { return s.kind }

// Prefix is the etcd prefix of every object of the kind.
func (s *Store) Prefix() string { return s.prefix }

// Key is the etcd key of one object.
func (s *Store) Key(namespace, name string) string {
	if s.kind.Namespaced {
		return s.prefix + namespace + "/" + name
	}
	return s.prefix + name
}

// NamespacePrefix is the prefix of a namespace's objects ("" = all).
func (s *Store) NamespacePrefix(namespace string) string {
	if namespace == "" || !s.kind.Namespaced {
		return s.prefix
	}
	return s.prefix + namespace + "/"
}

// SideKey is a key written (or removed) in the same transaction as an
// object: a unique allocation such as a service IP.
type SideKey struct {
	Key   string
	Value string
}

func mapErr(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, rpctypes.ErrCompacted):
		return fmt.Errorf("%w: %v", ErrCompacted, err)
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	default:
		return fmt.Errorf("%w: %v", ErrUnavailable, err)
	}
}

// Create writes a new object, with its side keys, only if none of the keys
// exists. It returns obj itself with its resource version set: the caller
// must not change obj afterwards.
func (s *Store) Create(ctx context.Context, obj kinds.Object, side []SideKey) (kinds.Object, error) {
	m := kinds.Meta(obj)
	key := s.Key(m.GetNamespace(), m.GetName())
	data, err := encode(obj)
	if err != nil {
		return nil, err
	}
	cmps := []clientv3.Cmp{clientv3.Compare(clientv3.CreateRevision(key), "=", 0)}
	puts := []clientv3.Op{clientv3.OpPut(key, string(data))}
	gets := []clientv3.Op{clientv3.OpGet(key, clientv3.WithCountOnly())}
	for _, sk := range side {
		cmps = append(cmps, clientv3.Compare(clientv3.CreateRevision(sk.Key), "=", 0))
		puts = append(puts, clientv3.OpPut(sk.Key, sk.Value))
		gets = append(gets, clientv3.OpGet(sk.Key, clientv3.WithCountOnly()))
	}
	tctx, done := s.etcdCall(ctx, "create", key)
	resp, err := s.cli.Txn(tctx).If(cmps...).Then(puts...).Else(gets...).Commit()
	done(err)
	if err != nil {
		return nil, mapErr(err)
	}
	if !resp.Succeeded {
		if resp.Responses[0].GetResponseRange().GetCount() > 0 {
			return nil, ErrExists
		}
		for i, sk := range side {
			if resp.Responses[i+1].GetResponseRange().GetCount() > 0 {
				return nil, &SideKeyTakenError{Key: sk.Key}
			}
		}
		return nil, ErrConflict
	}
	// obj is what was written: hand it back rather than decoding the bytes.
	m.ResourceVersion = strconv.FormatInt(resp.Header.Revision, 10)
	return obj, nil
}

// Get reads one object from etcd (a linearizable read).
func (s *Store) Get(ctx context.Context, namespace, name string) (kinds.Object, error) {
	key := s.Key(namespace, name)
	gctx, done := s.etcdCall(ctx, "get", key)
	resp, err := s.cli.Get(gctx, key)
	done(err)
	if err != nil {
		return nil, mapErr(err)
	}
	if len(resp.Kvs) == 0 {
		return nil, ErrNotFound
	}
	return decode(s.kind, resp.Kvs[0].Value, resp.Kvs[0].ModRevision)
}

// Mutation is what an update function decides.
type Mutation struct {
	// Object is the new state (nil with Delete).
	Object kinds.Object
	// Delete removes the object instead of writing it.
	Delete bool
	// DeleteKeys are side keys removed in the same transaction.
	DeleteKeys []string
}

// UpdateFunc computes the next state from a private copy of the current one.
type UpdateFunc func(cur kinds.Object) (Mutation, error)

// Update reads the object, applies fn and writes the result compared on the
// mod revision it read. When expectRV is non-zero the object must still be at
// that revision (ErrConflict otherwise); when it is zero a lost race is
// retried with a fresh read. It returns the object as stored, or as it was
// last stored when deleted (with the deletion's revision).
func (s *Store) Update(ctx context.Context, namespace, name string, expectRV int64, fn UpdateFunc) (kinds.Object, bool, error) {
	key := s.Key(namespace, name)
	for attempt := 0; ; attempt++ {
		gctx, done := s.etcdCall(ctx, "get", key)
		resp, err := s.cli.Get(gctx, key)
		done(err)
		if err != nil {
			return nil, false, mapErr(err)
		}
		if len(resp.Kvs) == 0 {
			return nil, false, ErrNotFound
		}
		kv := resp.Kvs[0]
		if expectRV != 0 && kv.ModRevision != expectRV {
			return nil, false, ErrConflict
		}
		cur, err := decode(s.kind, kv.Value, kv.ModRevision)
		if err != nil {
			return nil, false, err
		}
		mut, err := fn(cur)
		if err != nil {
			return nil, false, err
		}
		cmp := clientv3.Compare(clientv3.ModRevision(key), "=", kv.ModRevision)
		var ops []clientv3.Op
		var data []byte
		if mut.Delete {
			ops = append(ops, clientv3.OpDelete(key))
			for _, k := range mut.DeleteKeys {
				ops = append(ops, clientv3.OpDelete(k))
			}
		} else {
			if data, err = encode(mut.Object); err != nil {
				return nil, false, err
			}
			if string(data) == string(kv.Value) {
				// Nothing changed: no write, no new revision, no watch event.
				return cur, false, nil
			}
			ops = append(ops, clientv3.OpPut(key, string(data)))
		}
		tctx, done := s.etcdCall(ctx, "update", key)
		tresp, err := s.cli.Txn(tctx).If(cmp).Then(ops...).Commit()
		done(err)
		if err != nil {
			return nil, false, mapErr(err)
		}
		if !tresp.Succeeded {
			if expectRV != 0 {
				return nil, false, ErrConflict
			}
			continue
		}
		if mut.Delete {
			kinds.Meta(cur).ResourceVersion = strconv.FormatInt(tresp.Header.Revision, 10)
			return cur, true, nil
		}
		out, err := decode(s.kind, data, tresp.Header.Revision)
		return out, false, err
	}
}

// CurrentRevision is etcd's newest revision (a linearizable read).
func (s *Store) CurrentRevision(ctx context.Context) (int64, error) {
	resp, err := s.cli.Get(ctx, s.prefix, clientv3.WithCountOnly())
	if err != nil {
		return 0, mapErr(err)
	}
	return resp.Header.Revision, nil
}

// ListAt reads objects under prefix at revision rev (0 = newest), in key
// order, starting after the key after (exclusive; "" = from the start). It
// stops once keep has accepted limit objects (0 = no limit) and reports the
// last key it looked at and whether objects remain after it.
func (s *Store) ListAt(ctx context.Context, prefix string, rev int64, after string, limit int, keep func(kinds.Object) bool) (items []kinds.Object, atRev int64, lastKey string, more bool, err error) {
	end := clientv3.GetPrefixRangeEnd(prefix)
	start := prefix
	if after != "" {
		if !strings.HasPrefix(after, prefix) {
			return nil, 0, "", false, fmt.Errorf("storage: continue key %q is outside %q", after, prefix)
		}
		start = after + "\x00"
	}
	const batch = 500
	for {
		opts := []clientv3.OpOption{clientv3.WithRange(end), clientv3.WithLimit(batch)}
		if rev != 0 {
			opts = append(opts, clientv3.WithRev(rev))
		}
		lctx, done := s.etcdCall(ctx, "list", prefix)
		resp, gerr := s.cli.Get(lctx, start, opts...)
		done(gerr)
		if gerr != nil {
			return nil, 0, "", false, mapErr(gerr)
		}
		if rev == 0 {
			rev = resp.Header.Revision
		}
		for i, kv := range resp.Kvs {
			obj, derr := decode(s.kind, kv.Value, kv.ModRevision)
			if derr != nil {
				return nil, 0, "", false, derr
			}
			if keep != nil && !keep(obj) {
				continue
			}
			items = append(items, obj)
			if limit > 0 && len(items) == limit {
				last := string(kv.Key)
				remaining := i < len(resp.Kvs)-1 || resp.More
				return items, rev, last, remaining, nil
			}
		}
		if !resp.More || len(resp.Kvs) == 0 {
			return items, rev, "", false, nil
		}
		start = string(resp.Kvs[len(resp.Kvs)-1].Key) + "\x00"
	}
}
