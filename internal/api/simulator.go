package api

import (
	"net/http"
	"time"

	"github.com/switchboard-dev/switchboard/internal/failure"
)

// The simulator and the test clocks exist in test projects only: on a live
// project their routes answer 403 testModeOnly, whatever --simulator says.
// The test clock is always there in a test project; the provider simulator
// (simulate) only when --simulator is not false.
func (s *Server) routeSimulator() {
	s.Handle("GET /projects/{project}/simulator/clock", s.testClock(s.getClock))
	s.Handle("POST /projects/{project}/simulator/clock/advance", s.testClock(s.advanceClock))
}

// testClock serves a handler in test projects only.
func (s *Server) testClock(h Handler) Handler {
	return func(c *Call) (int, any, error) {
		if err := s.deps.Projects.RequireTest(c.Ctx, c.Project); err != nil {
			return 0, nil, err
		}
		return h(c)
	}
}

// testOnly serves a provider-simulator handler: in test projects only,
// and only while the simulator is on.
func (s *Server) testOnly(h Handler) Handler {
	return s.testClock(func(c *Call) (int, any, error) {
		if !s.deps.Simulator {
			return 0, nil, failure.New(failure.NotFound, "simulatorDisabled",
				"The network-provider simulator is off on this server (serve --simulator false).")
		}
		return h(c)
	})
}

// clockBody is a test clock's rendering.
type clockBody struct {
	Object  string    `json:"object"`
	Project string    `json:"project"`
	Time    time.Time `json:"time"`
	// OffsetSeconds is how far the clock is ahead of the wall clock.
	OffsetSeconds int64 `json:"offsetSeconds"`
	// TimersFired, in the answer to advance, is how many of the project's
	// timers fired.
	TimersFired *int `json:"timersFired,omitempty"`
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
		return 0, nil, required("seconds")
	}
	const most = int64(365 * 24 * 3600)
	if *p.Seconds < 1 || *p.Seconds > most {
		return 0, nil, failure.New(failure.Invalid, "invalidValue", "The field seconds must be from 1 to %d (a year).", most)
	}
	fired, offset, err := s.deps.AdvanceClock(c.Ctx, c.Project, time.Duration(*p.Seconds)*time.Second)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.clock(c.Project, offset, &fired), nil
}

func (s *Server) getClock(c *Call) (int, any, error) {
	offset, err := s.deps.Projects.ClockOffset(c.Ctx, c.Project)
	if err != nil {
		return 0, nil, err
	}
	return http.StatusOK, s.clock(c.Project, offset, nil), nil
}

func (s *Server) clock(project string, offset time.Duration, fired *int) clockBody {
	return clockBody{Object: "clock", Project: project, Time: s.deps.Clock.For(project).Now().Truncate(time.Second),
		OffsetSeconds: int64(offset / time.Second), TimersFired: fired}
}
