package workqueue

import (
	"testing"
	"time"

	"k8s.io/client-go/util/workqueue"
)

func TestDefaultRateLimiterBacksOffAndForgetResets(t *testing.T) {
	rl := DefaultRateLimiter[string]()
	steps := []struct {
		name     string
		key      string
		forget   bool
		want     time.Duration
		requeues int
	}{
		{name: "first failure", key: "a", want: 5 * time.Millisecond, requeues: 1},
		{name: "second failure doubles", key: "a", want: 10 * time.Millisecond, requeues: 2},
		{name: "third failure doubles", key: "a", want: 20 * time.Millisecond, requeues: 3},
		{name: "other key is independent", key: "b", want: 5 * time.Millisecond, requeues: 1},
		{name: "after forget starts over", key: "a", forget: true, want: 5 * time.Millisecond, requeues: 1},
	}
	for _, s := range steps {
		if s.forget {
			rl.Forget(s.key)
			if n := rl.NumRequeues(s.key); n != 0 {
				t.Fatalf("%s: NumRequeues after Forget = %d, want 0", s.name, n)
			}
		}
		if got := rl.When(s.key); got != s.want {
			t.Errorf("%s: When(%q) = %v, want %v", s.name, s.key, got, s.want)
		}
		if got := rl.NumRequeues(s.key); got != s.requeues {
			t.Errorf("%s: NumRequeues(%q) = %d, want %d", s.name, s.key, got, s.requeues)
		}
	}
}

func TestDefaultRateLimiterCapsBackoff(t *testing.T) {
	rl := DefaultRateLimiter[string]()
	var got time.Duration
	for range 40 {
		got = rl.When("a")
	}
	if got != 1000*time.Second {
		t.Fatalf("backoff after 40 failures = %v, want the 1000s cap", got)
	}
}

func TestQueueRetryAndForget(t *testing.T) {
	q := New[string]("retry", WithRateLimiter(workqueue.NewTypedItemExponentialFailureRateLimiter[string](time.Millisecond, 10*time.Millisecond)))
	defer q.ShutDown()

	for i := 1; i <= 3; i++ {
		q.AddRateLimited("a")
		key, shutdown := q.Get()
		if shutdown || key != "a" {
			t.Fatalf("Get = %q, %v; want a", key, shutdown)
		}
		if n := q.NumRequeues("a"); n != i {
			t.Fatalf("NumRequeues after %d retries = %d", i, n)
		}
		q.Done(key)
	}
	q.Forget("a")
	if n := q.NumRequeues("a"); n != 0 {
		t.Fatalf("NumRequeues after Forget = %d, want 0", n)
	}
}

func TestQueueDedupsAdds(t *testing.T) {
	q := New[string]("dedup")
	defer q.ShutDown()
	for range 5 {
		q.Add("a")
		q.Add("b")
	}
	if n := q.Len(); n != 2 {
		t.Fatalf("Len after repeated adds = %d, want 2", n)
	}
}

func TestNewPanicsOnLimiterOfOtherType(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("New accepted a rate limiter of another item type")
		}
	}()
	New[string]("bad", WithRateLimiter(DefaultRateLimiter[int]()))
}
