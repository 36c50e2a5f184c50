package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"balcao/internal/outbox"
	"balcao/internal/store"
	"balcao/internal/store/storetest"
)

// recorder is a Sender that remembers what it was given and fails on demand.
type recorder struct {
	mu    sync.Mutex
	sent  map[string]int
	fail  func(key string, attempt int) error
	tries map[string]int
}

func newRecorder() *recorder { return &recorder{sent: map[string]int{}, tries: map[string]int{}} }

func (r *recorder) Send(ctx context.Context, key string, m outbox.Message) (outbox.Receipt, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.tries[key]++
	if r.fail != nil {
		if err := r.fail(key, r.tries[key]); err != nil {
			return outbox.Receipt{}, err
		}
	}
	r.sent[key]++
	return outbox.Receipt{ProviderRef: "p-" + key, Segments: 1}, nil
}

func mail(key string) outbox.Message {
	return outbox.Message{Channel: outbox.Email, Key: key, SubjectRef: "appointment:a1",
		Mail: &outbox.Mail{To: "maria@example.pt", Subject: "s", TextBody: "t"}}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func enqueue(t *testing.T, db *store.DB, now time.Time, msgs ...outbox.Message) {
	t.Helper()
	err := db.InTx(context.Background(), func(tx *store.Tx) error {
		return outbox.Enqueue(context.Background(), tx, now, msgs...)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestEnqueueIsTransactionalAndIdempotent(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		now := time.Now()
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := outbox.Enqueue(ctx, tx, now, mail("rolled-back")); err != nil {
				return err
			}
			return errors.New("the change failed")
		})
		if err == nil {
			t.Fatal("expected the transaction to fail")
		}
		enqueue(t, db, now, mail("k1"))
		enqueue(t, db, now, mail("k1"), mail("k2-other"))
		enqueue(t, db, now, mail("k1"))
		var n int
		if err := db.QueryRow(ctx, "SELECT COUNT(*) FROM outbox").Scan(&n); err != nil || n != 2 {
			t.Fatalf("%d messages (%v), want 2: rolled-back ones dropped, duplicates ignored", n, err)
		}
		rec := newRecorder()
		w := outbox.NewWorker(db, map[string]outbox.Sender{outbox.Email: rec}, quiet, nil)
		if handled, err := w.RunOnce(ctx); err != nil || handled != 2 {
			t.Fatalf("RunOnce: %d, %v", handled, err)
		}
		if handled, _ := w.RunOnce(ctx); handled != 0 || rec.sent["k1"] != 1 {
			t.Fatalf("second run handled %d; k1 sent %d times", handled, rec.sent["k1"])
		}
		sent, _ := outbox.List(ctx, db, outbox.StatusSent, 10)
		if len(sent) != 2 || sent[0].ProviderID != "p-"+sent[0].Message.Key || sent[0].Message.Mail.To != "maria@example.pt" {
			t.Fatalf("sent list: %+v", sent)
		}
	})
}

func TestRetriesBackOffThenDeadLetter(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		now := func() time.Time { return clock }
		enqueue(t, db, clock, mail("flaky"), mail("broken"), mail("rejected"))
		rec := newRecorder()
		rec.fail = func(key string, attempt int) error {
			switch {
			case key == "flaky" && attempt < 3:
				return errors.New("connection reset")
			case key == "broken":
				return errors.New("timeout")
			case key == "rejected":
				return &outbox.PermanentError{Err: errors.New("550")}
			}
			return nil
		}
		w := outbox.NewWorker(db, map[string]outbox.Sender{outbox.Email: rec}, quiet, now)
		w.MaxAttempts = 4
		for range 10 {
			w.RunOnce(ctx)
			if n, _ := w.RunOnce(ctx); n != 0 {
				t.Fatal("a failed message was retried before its back-off")
			}
			clock = clock.Add(2 * time.Hour)
		}
		if rec.sent["flaky"] != 1 || rec.tries["flaky"] != 3 {
			t.Errorf("flaky: sent %d after %d tries, want once after 3", rec.sent["flaky"], rec.tries["flaky"])
		}
		if rec.tries["broken"] != 4 || rec.tries["rejected"] != 1 {
			t.Errorf("tries: broken %d (want 4), rejected %d (want 1)", rec.tries["broken"], rec.tries["rejected"])
		}
		dead, _ := outbox.List(ctx, db, outbox.StatusDead, 10)
		if len(dead) != 2 || dead[0].LastError == "" {
			t.Fatalf("dead letters: %+v", dead)
		}
		rec.fail = nil
		for _, d := range dead {
			if err := outbox.Retry(ctx, db, d.ID, clock); err != nil {
				t.Fatal(err)
			}
		}
		if err := outbox.Retry(ctx, db, dead[0].ID, clock); !errors.Is(err, outbox.ErrNotDead) {
			t.Errorf("retrying a pending message: %v", err)
		}
		w.RunOnce(ctx)
		if rec.sent["broken"] != 1 || rec.sent["rejected"] != 1 {
			t.Errorf("after retry: %v", rec.sent)
		}
	})
}

func TestScheduledAndCancelled(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		clock := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
		later := mail("appt:a1:remind:0:60m")
		later.NotBefore = clock.Add(time.Hour)
		other := mail("appt:a1:remind:0:1440m")
		other.NotBefore = clock.Add(2 * time.Hour)
		enqueue(t, db, clock, later, other)
		rec := newRecorder()
		w := outbox.NewWorker(db, map[string]outbox.Sender{outbox.Email: rec}, quiet, func() time.Time { return clock })
		if n, _ := w.RunOnce(ctx); n != 0 {
			t.Fatal("a reminder went out early")
		}
		clock = clock.Add(61 * time.Minute)
		if n, _ := w.RunOnce(ctx); n != 1 || rec.sent[later.Key] != 1 {
			t.Fatalf("reminder due: handled %d", n)
		}
		if err := db.InTx(ctx, func(tx *store.Tx) error {
			return outbox.CancelPending(ctx, tx, "appointment:a1", "appt:a1:remind:")
		}); err != nil {
			t.Fatal(err)
		}
		clock = clock.Add(3 * time.Hour)
		if n, _ := w.RunOnce(ctx); n != 0 {
			t.Fatal("a cancelled reminder went out")
		}
	})
}

// TestWorkersShareTheQueue runs four workers over one queue: each message goes out once.
func TestWorkersShareTheQueue(t *testing.T) {
	storetest.Engines(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		var msgs []outbox.Message
		for i := range 300 {
			msgs = append(msgs, mail(fmt.Sprint("m", i)))
		}
		enqueue(t, db, time.Now(), msgs...)
		rec := newRecorder()
		var wg sync.WaitGroup
		var handled atomic.Int64
		for range 4 {
			w := outbox.NewWorker(db, map[string]outbox.Sender{outbox.Email: rec}, quiet, nil)
			w.Batch = 7
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					n, err := w.RunOnce(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					if n == 0 {
						return
					}
					handled.Add(int64(n))
				}
			}()
		}
		wg.Wait()
		if handled.Load() != 300 || len(rec.sent) != 300 {
			t.Fatalf("handled %d, distinct sent %d", handled.Load(), len(rec.sent))
		}
		for k, n := range rec.sent {
			if n != 1 {
				t.Errorf("%s sent %d times", k, n)
			}
		}
	})
}
