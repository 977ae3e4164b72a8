package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Wake-ups between processes. NOTIFY is only a wake-up: a listener may miss
// one (the connection dropped, the process started late), so whoever listens
// keeps a slow poll as a backstop and treats a wake-up as "look now".

// Notify wakes every listener of channel, in this process and in the others
// on the same database, once the transaction commits; a transaction that
// rolls back wakes no one. On PostgreSQL it is pg_notify (NOTIFYs of one
// channel in one transaction fold into one); on SQLite, which has a single
// process, it wakes the store's own listeners after the commit.
func (tx *Tx) Notify(ctx context.Context, channel string) error {
	if !tx.write {
		return fmt.Errorf("store: notify %s: not a write transaction", channel)
	}
	if !tx.s.d.crossProcess() {
		tx.AfterCommit(func() { tx.s.hub.wake(channel) })
		return nil
	}
	if _, err := tx.exec(ctx, tx.s.d.notify, tx.s.channelName(channel)); err != nil {
		return fmt.Errorf("store: notify %s: %w", channel, err)
	}
	return nil
}

// Signal wakes every listener of channel, in this process and the others,
// soon after the call and outside any transaction; it never blocks. Signals
// that arrive while one is being sent fold into the next, so a process sends
// at most one NOTIFY at a time however many commits call it. Prefer it to
// Notify on hot paths: PostgreSQL serialises the commits of transactions
// that NOTIFY, while a Signal after the commit keeps writers apart.
func (s *Store) Signal(channel string) {
	if !s.d.crossProcess() {
		s.hub.wake(channel)
		return
	}
	s.sigMu.Lock()
	pending, ok := s.sigs[channel]
	if !ok {
		if s.sigs == nil {
			s.sigs = map[string]chan struct{}{}
		}
		pending = make(chan struct{}, 1)
		s.sigs[channel] = pending
		go s.signal(channel, pending)
	}
	s.sigMu.Unlock()
	select {
	case pending <- struct{}{}:
	default:
	}
}

// signal sends channel's NOTIFYs, one at a time, until the store closes.
func (s *Store) signal(channel string, pending <-chan struct{}) {
	name := s.channelName(channel)
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-pending:
		}
		ctx, cancel := context.WithTimeout(s.ctx, 2*time.Second)
		if _, err := s.write.ExecContext(ctx, s.q(s.d.notify), name); err != nil && s.ctx.Err() == nil {
			s.log.Debug("store: signal", "channel", channel, "err", err)
		}
		cancel()
	}
}

// Listen returns a channel that receives a value after a transaction that
// called Notify for channel commits. Wake-ups coalesce: a slow reader finds
// one pending value however many notifications came. The channel is closed
// when ctx is done or the store is closed.
//
// On PostgreSQL, Listen keeps a dedicated connection (outside the pool)
// that has run LISTEN; when the connection drops, it reconnects with
// backoff until the database is back, then sends one wake-up, since
// notifications may have been missed meanwhile. When the database cannot be
// reached at the call, Listen still succeeds and keeps trying. On SQLite the
// channel fires only for Notify calls of this store (one process).
func (s *Store) Listen(ctx context.Context, channel string) (<-chan struct{}, error) {
	if channel == "" {
		return nil, errors.New("store: listen: empty channel name")
	}
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	ch := make(chan struct{}, 1)
	if !s.d.crossProcess() {
		s.hub.add(channel, ch)
		go func() {
			<-ctx.Done()
			stop()
			s.hub.remove(channel, ch)
			close(ch)
		}()
		return ch, nil
	}
	cfg, err := s.ConnConfig()
	if err != nil {
		cancel()
		stop()
		return nil, fmt.Errorf("store: listen %s: %w", channel, err)
	}
	cfg.RuntimeParams["application_name"] = "switchboard-listen"
	l := &listener{s: s, cfg: cfg, channel: s.channelName(channel), ch: ch}
	conn, err := l.connect(ctx)
	if err != nil && !errors.Is(err, ErrUnavailable) {
		cancel()
		stop()
		return nil, err
	}
	if err != nil {
		s.log.Warn("store: listen: database unavailable; retrying", "channel", channel, "err", err)
	}
	go func() {
		defer stop()
		defer cancel()
		l.run(ctx, conn)
	}()
	return ch, nil
}

// channelName scopes a channel to the store's schema, so that the schemas
// sharing a database (tests, several installations) do not wake each other.
func (s *Store) channelName(channel string) string {
	if s.schema == "" {
		return channel
	}
	return s.schema + "." + channel
}

// listener is one LISTEN connection and its reconnection loop.
type listener struct {
	s       *Store
	cfg     *pgx.ConnConfig
	channel string
	ch      chan struct{}
}

// Backoff between reconnection attempts.
const (
	listenMinBackoff = 50 * time.Millisecond
	listenMaxBackoff = 2 * time.Second
)

func (l *listener) connect(ctx context.Context) (*pgx.Conn, error) {
	conn, err := pgx.ConnectConfig(ctx, l.cfg)
	if err != nil {
		return nil, fmt.Errorf("store: listen: connect: %w", mapPostgresErr(err))
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{l.channel}.Sanitize()); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("store: listen %s: %w", l.channel, mapPostgresErr(err))
	}
	return conn, nil
}

func (l *listener) wake() {
	select {
	case l.ch <- struct{}{}:
	default:
	}
}

func (l *listener) run(ctx context.Context, conn *pgx.Conn) {
	defer close(l.ch)
	defer func() {
		if conn != nil {
			conn.Close(context.Background())
		}
	}()
	backoff := listenMinBackoff
	for {
		if conn == nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			c, err := l.connect(ctx)
			if err != nil {
				if ctx.Err() != nil {
					return
				}
				backoff = min(2*backoff, listenMaxBackoff)
				continue
			}
			conn, backoff = c, listenMinBackoff
			l.s.log.Info("store: listen: reconnected", "channel", l.channel)
			l.wake() // what was missed while disconnected
		}
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			l.s.log.Warn("store: listen: connection lost; reconnecting", "channel", l.channel, "err", err)
			conn.Close(context.Background())
			conn = nil
			continue
		}
		if n.Channel == l.channel {
			l.wake()
		}
	}
}

// hub fans SQLite's in-process notifications out to the store's listeners.
type hub struct {
	mu        sync.Mutex
	listeners map[string]map[chan struct{}]bool
}

func (h *hub) add(channel string, ch chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.listeners == nil {
		h.listeners = map[string]map[chan struct{}]bool{}
	}
	if h.listeners[channel] == nil {
		h.listeners[channel] = map[chan struct{}]bool{}
	}
	h.listeners[channel][ch] = true
}

func (h *hub) remove(channel string, ch chan struct{}) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.listeners[channel], ch)
}

func (h *hub) wake(channel string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for ch := range h.listeners[channel] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}
