package project

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/clock"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/field"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// Kind is the store kind of projects, kept outside any project.
const Kind = "project"

// Modes.
const (
	// Test projects have the simulator and a test clock.
	Test = "test"
	// Live projects have neither.
	Live = "live"
)

// Bounds of a test clock.
const (
	// MaxAdvance is the most one call may move a clock forward: a year.
	MaxAdvance = 365 * 24 * time.Hour
	// MaxOffset is the most a clock may ever be ahead of the wall clock:
	// ten years.
	MaxOffset = 10 * 365 * 24 * time.Hour
)

// Project is a project as the API shows it, and as it is stored.
type Project struct {
	Object    string    `json:"object"`
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Mode      string    `json:"mode"`
	CreatedAt time.Time `json:"createdAt"`
}

// CreateParams are the fields of a create request.
type CreateParams struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Mode string `json:"mode"`
}

// UpdateParams are the fields of an update request; nil means not given.
type UpdateParams struct {
	Name *string `json:"name"`
	// Mode may be given only with the project's mode: it never changes.
	Mode *string `json:"mode"`
}

// idPattern is what a project ID may look like: it appears in every path.
var idPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// ValidID checks a project ID.
func ValidID(name, v string) error {
	if !idPattern.MatchString(v) {
		return failure.New(failure.Invalid, "invalidValue",
			"The field %s must be 1 to 63 lowercase letters, digits and hyphens, starting with a letter or digit.", name)
	}
	return nil
}

// Service manages projects and their test clocks. Set Store, Clock and
// Clocks.
type Service struct {
	Store *store.Store
	// Clock is the wall clock, for createdAt.
	Clock clock.Clock
	// Clocks caches the projects' clock offsets for this process.
	Clocks *clock.Projects
	// Seed, when set, gives a new project what every project starts with
	// (the catalog's plans), in the transaction that creates it.
	Seed func(ctx context.Context, tx *store.Tx, p *Project) error

	modes sync.Map // project ID → mode; a mode never changes
}

func notFound(id string) error {
	return failure.New(failure.NotFound, "projectNotFound", "The project %s was not found.", id)
}

// Create creates a project.
func (s *Service) Create(ctx context.Context, p CreateParams) (*Project, error) {
	switch {
	case p.ID == "":
		return nil, field.Required("id")
	case p.Name == "":
		return nil, field.Required("name")
	case p.Mode == "":
		return nil, field.Required("mode")
	}
	if err := ValidID("id", p.ID); err != nil {
		return nil, err
	}
	if err := field.Length("name", p.Name, 1, 200); err != nil {
		return nil, err
	}
	if err := field.OneOf("mode", p.Mode, Test, Live); err != nil {
		return nil, err
	}
	pr := &Project{Object: "project", ID: p.ID, Name: p.Name, Mode: p.Mode, CreatedAt: clock.Second(s.Clock.Now())}
	err := s.Store.Update(ctx, func(tx *store.Tx) error { return s.insert(ctx, tx, pr) })
	if errors.Is(err, store.ErrDuplicate) {
		return nil, failure.New(failure.Conflict, "projectExists", "The project %s exists already.", p.ID)
	}
	if err != nil {
		return nil, err
	}
	return pr, nil
}

// insert stores a new project and its clock; ErrDuplicate when the ID is
// taken.
func (s *Service) insert(ctx context.Context, tx *store.Tx, p *Project) error {
	if err := tx.CreateClock(ctx, p.ID); err != nil {
		return err
	}
	if err := tx.Put(ctx, store.Resource{Kind: Kind, ID: p.ID, Status: p.Mode, Body: p}); err != nil {
		return fmt.Errorf("project: %w", err)
	}
	if s.Seed != nil {
		return s.Seed(ctx, tx, p)
	}
	return nil
}

// Ensure creates the project unless it exists, and returns it as stored.
// The server makes its default project (and the projects of older
// databases) this way.
func (s *Service) Ensure(ctx context.Context, id, name, mode string) (*Project, error) {
	var out *Project
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		var p Project
		err := tx.Read(ctx, Kind, "", id, &p)
		switch {
		case err == nil:
			out = &p
			return nil
		case !errors.Is(err, store.ErrNotFound):
			return err
		}
		out = &Project{Object: "project", ID: id, Name: name, Mode: mode, CreatedAt: clock.Second(s.Clock.Now())}
		return s.insert(ctx, tx, out)
	})
	if errors.Is(err, store.ErrDuplicate) { // made meanwhile by another process
		return s.Get(ctx, id)
	}
	return out, err
}

// Get returns a project.
func (s *Service) Get(ctx context.Context, id string) (*Project, error) {
	var p Project
	err := s.Store.View(ctx, func(tx *store.Tx) error { return tx.Read(ctx, Kind, "", id, &p) })
	if errors.Is(err, store.ErrNotFound) {
		return nil, notFound(id)
	}
	if err != nil {
		return nil, fmt.Errorf("project: %w", err)
	}
	s.modes.Store(p.ID, p.Mode)
	return &p, nil
}

// Mode returns the project's mode; projectNotFound when there is no such
// project. Modes never change and projects are never deleted, so a mode
// once read is kept.
func (s *Service) Mode(ctx context.Context, id string) (string, error) {
	if m, ok := s.modes.Load(id); ok {
		return m.(string), nil
	}
	p, err := s.Get(ctx, id)
	if err != nil {
		return "", err
	}
	return p.Mode, nil
}

// List returns a page of projects, by ID descending.
func (s *Service) List(ctx context.Context, page store.Page) ([]Project, store.Cursors, error) {
	var items [][]byte
	var cur store.Cursors
	err := s.Store.View(ctx, func(tx *store.Tx) (err error) {
		items, cur, err = tx.List(ctx, store.Query{Kind: Kind, Page: page})
		return err
	})
	if err != nil {
		return nil, cur, fmt.Errorf("project: %w", err)
	}
	out := make([]Project, 0, len(items))
	for _, b := range items {
		var p Project
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, cur, fmt.Errorf("project: decode: %w", err)
		}
		out = append(out, p)
	}
	return out, cur, nil
}

// IDs returns the IDs of every project of the mode (every project when mode
// is empty).
func (s *Service) IDs(ctx context.Context, mode string) ([]string, error) {
	var out []string
	err := s.Store.View(ctx, func(tx *store.Tx) error {
		page := store.Page{Limit: 200}
		for {
			items, cur, err := tx.List(ctx, store.Query{Kind: Kind, Status: mode, Page: page})
			if err != nil {
				return err
			}
			for _, b := range items {
				var p Project
				if err := json.Unmarshal(b, &p); err != nil {
					return fmt.Errorf("decode: %w", err)
				}
				out = append(out, p.ID)
			}
			if cur.MoreAfter == "" {
				return nil
			}
			page.After = cur.MoreAfter
		}
	})
	if err != nil {
		return nil, fmt.Errorf("project: list: %w", err)
	}
	return out, nil
}

// Update changes a project's name. Its mode cannot change: a test
// project's simulated history must never become live data.
func (s *Service) Update(ctx context.Context, id string, p UpdateParams) (*Project, error) {
	if p.Name != nil {
		if err := field.Length("name", *p.Name, 1, 200); err != nil {
			return nil, err
		}
	}
	var out Project
	err := s.Store.Update(ctx, func(tx *store.Tx) error {
		if err := tx.GetForUpdate(ctx, Kind, "", id, &out); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return notFound(id)
			}
			return err
		}
		if p.Mode != nil && *p.Mode != out.Mode {
			return failure.New(failure.Invalid, "modeImmutable", "A project's mode cannot change; create a %s project instead.", *p.Mode)
		}
		if p.Name != nil {
			out.Name = *p.Name
		}
		return tx.Put(ctx, store.Resource{Kind: Kind, ID: out.ID, Status: out.Mode, Body: &out})
	})
	if err != nil {
		return nil, err
	}
	return &out, nil
}
