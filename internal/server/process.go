package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"time"

	"github.com/switchboard-dev/switchboard/internal/store"
)

// Recovery after a crash. Every process has an ID; its dispatcher's claim
// IDs begin with it, so its leases can be found when it is gone.
//
//   - SQLite: one process serves a file (the store's OS lock, taken before
//     anything is read or written), so the leases found at start were left
//     by a predecessor that died: they are all taken back at once.
//   - PostgreSQL: each process beats every heartbeatInterval; a process
//     whose beat is older than deadAfter is dead, and the first live process
//     to notice takes back its leases and wakes every dispatcher.

const (
	heartbeatInterval = 2 * time.Second
	deadAfter         = 3 * heartbeatInterval
)

func newProcessID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return "prc_" + hex.EncodeToString(b)
}

// takeOverLeases frees every lease on a SQLite database this process holds
// the lock of: their holders are dead.
func (s *Server) takeOverLeases(ctx context.Context) error {
	if s.Store.CrossProcess() {
		return nil // other processes may hold live leases
	}
	var n int64
	err := s.Store.Update(ctx, func(tx *store.Tx) (err error) {
		n, err = tx.ReleaseLeases(ctx)
		return err
	})
	if err == nil && n > 0 {
		s.log.Info("delivery: took back the leases a previous process left", "deliveries", n)
	}
	return err
}

// heartbeat beats for this process and reclaims the leases of dead ones
// until ctx ends (PostgreSQL only), then forgets this process.
func (s *Server) heartbeat(ctx context.Context) {
	if !s.Store.CrossProcess() {
		return
	}
	beat := func() {
		now := time.Now()
		var dead []string
		var freed int64
		err := s.Store.Update(ctx, func(tx *store.Tx) (err error) {
			if err := tx.BeatProcess(ctx, s.process, now); err != nil {
				return err
			}
			dead, freed, err = tx.ReclaimDead(ctx, now.Add(-deadAfter))
			return err
		})
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("server: heartbeat", "err", err)
			}
			return
		}
		if len(dead) > 0 {
			s.log.Warn("delivery: took back the leases of processes whose heartbeat stopped",
				"processes", dead, "deliveries", freed)
			if freed > 0 {
				s.Dispatcher.Wake()
				s.Store.Signal(deliveriesChannel)
			}
		}
	}
	beat()
	t := time.NewTicker(heartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			ectx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
			defer cancel()
			if err := s.Store.Update(ectx, func(tx *store.Tx) error { return tx.EndProcess(ectx, s.process) }); err != nil {
				s.log.Warn("server: forget this process", "err", err)
			}
			return
		case <-t.C:
			beat()
		}
	}
}
