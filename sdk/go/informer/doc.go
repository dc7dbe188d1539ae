// Package informer is Shoal's list+watch cache: the client-go
// SharedIndexInformer of Shoal, generic over every kind.
//
// An Informer lists the objects it selects (following page tokens), then
// watches from the list's resource version with bookmarks. It keeps an
// in-memory store with named indexes, and tells its handlers about every
// change, from one goroutine, in the order the changes happened. A broken
// watch resumes from the last resource version seen; a compacted one
// (OUT_OF_RANGE) triggers a relist whose differences with the store reach the
// handlers as adds, updates and deletes. Events older than the stored object
// are ignored, so the store never goes back in time.
//
//	conn, _ := client.Dial(ctx, addr)
//	pods := informer.New(client.For[*shoalv1.Pod](conn),
//		informer.WithFieldSelector("spec.node_name="+node),
//		informer.WithIndex("owner", func(p *shoalv1.Pod) []string { ... }),
//	)
//	pods.AddEventHandler(informer.HandlerFuncs[*shoalv1.Pod]{
//		AddFunc:    func(p *shoalv1.Pod) { q.Add(kinds.Key(p)) },
//		UpdateFunc: func(_, p *shoalv1.Pod) { q.Add(kinds.Key(p)) },
//		DeleteFunc: func(p *shoalv1.Pod) { q.Add(kinds.Key(p)) },
//	})
//	go pods.Run(ctx)
//	if !pods.WaitForSync(ctx) {
//		return ctx.Err()
//	}
//	p, ok := pods.Get("default/web-0") // shared: never mutate, proto.Clone first
//
// Objects handed out by the read methods and to handlers are the cache's
// own: callers must not modify them (clone with proto.Clone before changing
// anything).
package informer
