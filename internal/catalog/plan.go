package catalog

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/field"
	"github.com/switchboard-dev/switchboard/internal/id"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// PlanKind is the store kind of plans.
const PlanKind = "plan"

// PlanParams are the fields of a plan to create.
type PlanParams struct {
	Name         string                    `json:"name"`
	Provider     string                    `json:"provider"`
	Description  *string                   `json:"description"`
	Image        *string                   `json:"image"`
	Allowances   *switchboard.Allowances   `json:"allowances"`
	Coverage     *switchboard.Coverage     `json:"coverage"`
	Limits       *switchboard.Limits       `json:"limits"`
	Price        *switchboard.Price        `json:"price"`
	Requirements *switchboard.Requirements `json:"requirements"`
	SimTypes     []string                  `json:"simTypes"`
	Validity     *switchboard.Validity     `json:"validity"`
}

func (p *PlanParams) validate() error {
	switch {
	case p.Name == "":
		return field.Required("name")
	case p.Provider == "":
		return field.Required("provider")
	case p.Validity == nil:
		return field.Required("validity")
	}
	if err := field.Length("name", p.Name, 1, 100); err != nil {
		return err
	}
	if err := field.OneOf("provider", p.Provider, NetworkProviders...); err != nil {
		return err
	}
	v := p.Validity
	if err := field.OneOf("validity.type", v.Type, switchboard.ValidityRecurring, switchboard.ValidityOneTime); err != nil {
		return err
	}
	if err := field.OneOf("validity.unit", v.Unit, switchboard.UnitDay, switchboard.UnitMonth); err != nil {
		return err
	}
	if v.Value < 1 || v.Value > 365 {
		return failure.New(failure.Invalid, "invalidValue", "The field validity.value must be from 1 to 365.")
	}
	if v.MinimumPeriods < 0 || v.MinimumPeriods > 120 {
		return failure.New(failure.Invalid, "invalidValue", "The field validity.minimumPeriods must be from 0 to 120.")
	}
	for _, t := range p.SimTypes {
		if err := field.OneOf("simTypes", t, "eSIM", "pSIM"); err != nil {
			return err
		}
	}
	if p.Price != nil {
		if p.Price.Amount < 0 {
			return failure.New(failure.Invalid, "invalidValue", "The field price.amount must not be negative.")
		}
		if len(p.Price.Currency) != 3 {
			return failure.New(failure.Invalid, "invalidValue", "The field price.currency must be an ISO 4217 code.")
		}
	}
	return nil
}

// NewPlan validates the parameters and returns the plan they describe.
func NewPlan(p PlanParams, now time.Time) (*switchboard.Plan, error) {
	if err := p.validate(); err != nil {
		return nil, err
	}
	plan := &switchboard.Plan{
		Object: "plan", ID: id.New(id.Plan), Name: p.Name, Provider: p.Provider,
		Description: p.Description, Image: p.Image, Coverage: p.Coverage, Limits: p.Limits,
		DataUnit: "byte", SMSUnit: "message", VoiceUnit: "second", Status: "available",
		Price:        switchboard.Price{Amount: 0, Currency: "USD"},
		Requirements: switchboard.Requirements{Address: "none", Device: "none", UserBirthday: "none", UserFullName: "none"},
		SimTypes:     []string{"eSIM", "pSIM"},
		Validity:     *p.Validity, CreatedAt: now,
	}
	if p.Allowances != nil {
		plan.Allowances = *p.Allowances
	}
	plan.Data, plan.SMS, plan.Voice = plan.Allowances.DataBytes, plan.Allowances.SMSMessages, plan.Allowances.VoiceSeconds
	if p.Price != nil {
		plan.Price = *p.Price
	}
	if p.Requirements != nil {
		plan.Requirements = *p.Requirements
	}
	if p.SimTypes != nil {
		plan.SimTypes = p.SimTypes
	}
	if plan.Coverage != nil {
		plan.Coverage.Object = "coverage"
	}
	return plan, nil
}

// PutPlan stores a plan.
func PutPlan(ctx context.Context, tx *store.Tx, project string, plan *switchboard.Plan) error {
	if err := tx.Put(ctx, store.Resource{Kind: PlanKind, Project: project, ID: plan.ID, Status: plan.Status, Body: plan}); err != nil {
		return fmt.Errorf("catalog: put plan: %w", err)
	}
	return nil
}

// LoadPlan reads a plan; a missing one is the API's planNotFound.
func LoadPlan(ctx context.Context, tx *store.Tx, project, planID string) (*switchboard.Plan, error) {
	var p switchboard.Plan
	if err := tx.Read(ctx, PlanKind, project, planID, &p); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, failure.New(failure.NotFound, "planNotFound", "The plan %s was not found.", planID)
		}
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return &p, nil
}

// SeedPlans gives a project with no plans a few to start with, one like the
// platform's documented "Gigs Global".
func SeedPlans(ctx context.Context, tx *store.Tx, project string, now time.Time) error {
	items, _, err := tx.List(ctx, store.Query{Kind: PlanKind, Project: project, Page: store.Page{Limit: 1}})
	if err != nil || len(items) > 0 {
		return err
	}
	desc := func(s string) *string { return &s }
	limit := int64(100_000_000_000)
	seeds := []PlanParams{
		{
			Name: "Gigs Global", Provider: "p9",
			Description: desc("A data plan you will love! Operates in most countries of the world."),
			Image:       desc("https://i.gigscdn.com/pr/nTZpgaEj5dTQ2Jo/original.png"),
			Allowances:  &switchboard.Allowances{DataBytes: 10_000_000_000, VoiceSeconds: 30_000, SMSMessages: 100},
			Coverage:    &switchboard.Coverage{ID: "de", Countries: []string{"DE", "FR", "US"}, Name: "Europe"},
			Limits: &switchboard.Limits{DataBytes: &limit,
				Throttling: &switchboard.Throttling{ThresholdBytes: 10_000_000_000, BandwidthBitsPerSecond: 512_000}},
			Price:        &switchboard.Price{Amount: 999, Currency: "USD"},
			Requirements: &switchboard.Requirements{Address: "present", Device: "none", UserBirthday: "none", UserFullName: "present"},
			Validity:     &switchboard.Validity{MinimumPeriods: 12, Type: switchboard.ValidityRecurring, Unit: switchboard.UnitDay, Value: 7},
		},
		{
			Name: "US Unlimited", Provider: "p9", Description: desc("Unlimited talk, text and data in the US."),
			Allowances: &switchboard.Allowances{DataBytes: 50_000_000_000, VoiceSeconds: 360_000, SMSMessages: 10_000},
			Coverage:   &switchboard.Coverage{ID: "us", Countries: []string{"US"}, Name: "United States"},
			Price:      &switchboard.Price{Amount: 3000, Currency: "USD"},
			Validity:   &switchboard.Validity{MinimumPeriods: 1, Type: switchboard.ValidityRecurring, Unit: switchboard.UnitMonth, Value: 1},
		},
		{
			Name: "Travel Week", Provider: "p3", Description: desc("Seven days of data, once."),
			Allowances: &switchboard.Allowances{DataBytes: 5_000_000_000},
			Price:      &switchboard.Price{Amount: 1500, Currency: "USD"},
			Validity:   &switchboard.Validity{MinimumPeriods: 1, Type: switchboard.ValidityOneTime, Unit: switchboard.UnitDay, Value: 7},
		},
	}
	for _, p := range seeds {
		plan, err := NewPlan(p, now)
		if err != nil {
			return fmt.Errorf("catalog: seed plan %s: %w", p.Name, err)
		}
		if err := PutPlan(ctx, tx, project, plan); err != nil {
			return err
		}
	}
	return nil
}
