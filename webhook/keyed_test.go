package webhook

import (
	"context"
	"testing"
	"time"
)

func TestKeyedMutex(t *testing.T) {
	var k keyedMutex
	ctx := context.Background()

	unlockA, err := k.lock(ctx, "a")
	if err != nil {
		t.Fatalf("lock(a): %v", err)
	}
	// Another key is independent.
	unlockB, err := k.lock(ctx, "b")
	if err != nil {
		t.Fatalf("lock(b) while a is held: %v", err)
	}
	unlockB()

	// The same key waits, and gives up with its context.
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	if _, err := k.lock(short, "a"); err != context.DeadlineExceeded {
		t.Fatalf("lock(a) while held = %v, want %v", err, context.DeadlineExceeded)
	}

	// A waiter gets the key once it is freed.
	got := make(chan func())
	go func() {
		unlock, err := k.lock(ctx, "a")
		if err != nil {
			t.Errorf("waiting lock(a): %v", err)
		}
		got <- unlock
	}()
	select {
	case <-got:
		t.Fatal("lock(a) succeeded while a was held")
	case <-time.After(10 * time.Millisecond):
	}
	unlockA()
	(<-got)()

	if n := len(k.locks); n != 0 {
		t.Errorf("%d locks left after all were freed, want 0", n)
	}
}
