package api

import (
	"net/http"
	"time"

	"github.com/switchboard-dev/switchboard/internal/failure"
)

func (s *Server) routeSimulator() {
	if !s.deps.Simulator {
		return
	}
	s.Handle("POST /simulator/clock/advance", s.advanceClock)
	s.Handle("GET /simulator/clock", s.getClock)
}

// clockBody is the simulator clock's rendering.
type clockBody struct {
	Object        string    `json:"object"`
	Time          time.Time `json:"time"`
	OffsetSeconds int64     `json:"offsetSeconds"`
	TimersFired   int       `json:"timersFired"`
}

// advanceClockParams move the platform clock forward.
type advanceClockParams struct {
	Seconds *int64 `json:"seconds"`
}

func (s *Server) advanceClock(c *Call) (int, any, error) {
	var p advanceClockParams
	if err := decode(c.R, &p); err != nil {
		return 0, nil, err
	}
	if p.Seconds == nil {
		return 0, nil, failure.New(failure.Invalid, "fieldRequired", "The field seconds is required.")
	}
	if *p.Seconds < 1 || *p.Seconds > 10*365*24*3600 {
		return 0, nil, failure.New(failure.Invalid, "invalidValue", "The field seconds must be from 1 to 315360000 (ten years).")
	}
	fired, offset, err := s.deps.AdvanceClock(c.Ctx, time.Duration(*p.Seconds)*time.Second)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, clockBody{Object: "clock", Time: s.deps.Clock.Now().Truncate(time.Second), OffsetSeconds: int64(offset / time.Second), TimersFired: fired}, nil
}

func (s *Server) getClock(c *Call) (int, any, error) {
	now := s.deps.Clock.Now()
	return http.StatusOK, clockBody{Object: "clock", Time: now.Truncate(time.Second), OffsetSeconds: int64(time.Until(now).Round(time.Second) / time.Second)}, nil
}
