package informer

import (
	"github.com/shoalmesh/shoal/sdk/go/kinds"
)

// NamespaceIndex is the built-in index of objects by namespace; cluster-scoped
// objects are indexed under "".
const NamespaceIndex = "namespace"

// indexFunc returns the values an object is indexed under.
type indexFunc[T kinds.Object] func(obj T) []string

func namespaceIndex[T kinds.Object](obj T) []string {
	return []string{obj.GetMetadata().GetNamespace()}
}

// store is the cache proper: objects by key plus their indexes. It is not
// safe for concurrent use; the Informer's lock guards it.
type store[T kinds.Object] struct {
	items    map[string]T
	indexers map[string]indexFunc[T]
	// indices[index name][indexed value] is the set of keys.
	indices map[string]map[string]map[string]struct{}
}

func newStore[T kinds.Object](indexers map[string]indexFunc[T]) store[T] {
	s := store[T]{
		items:    map[string]T{},
		indexers: indexers,
		indices:  map[string]map[string]map[string]struct{}{},
	}
	for name := range indexers {
		s.indices[name] = map[string]map[string]struct{}{}
	}
	return s
}

// put stores obj under key and returns what it replaced.
func (s *store[T]) put(key string, obj T) (old T, existed bool) {
	old, existed = s.items[key]
	if existed {
		s.unindex(key, old)
	}
	s.items[key] = obj
	s.index(key, obj)
	return old, existed
}

// remove deletes key and returns what was stored.
func (s *store[T]) remove(key string) (old T, existed bool) {
	old, existed = s.items[key]
	if existed {
		s.unindex(key, old)
		delete(s.items, key)
	}
	return old, existed
}

func (s *store[T]) index(key string, obj T) {
	for name, fn := range s.indexers {
		idx := s.indices[name]
		for _, v := range fn(obj) {
			keys := idx[v]
			if keys == nil {
				keys = map[string]struct{}{}
				idx[v] = keys
			}
			keys[key] = struct{}{}
		}
	}
}

func (s *store[T]) unindex(key string, obj T) {
	for name, fn := range s.indexers {
		idx := s.indices[name]
		for _, v := range fn(obj) {
			keys := idx[v]
			delete(keys, key)
			if len(keys) == 0 {
				delete(idx, v)
			}
		}
	}
}

func (s *store[T]) list() []T {
	out := make([]T, 0, len(s.items))
	for _, obj := range s.items {
		out = append(out, obj)
	}
	return out
}

func (s *store[T]) byIndex(name, value string) []T {
	keys := s.indices[name][value]
	if len(keys) == 0 {
		return nil
	}
	out := make([]T, 0, len(keys))
	for key := range keys {
		out = append(out, s.items[key])
	}
	return out
}
