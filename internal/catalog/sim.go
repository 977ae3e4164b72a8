package catalog

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/id"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// SimKind is the store kind of SIMs.
const SimKind = "sim"

// SIM statuses.
const (
	SimInactive = "inactive"
	SimActive   = "active"
	SimRetired  = "retired"
)

// NewESIM provisions an inactive eSIM on the network provider.
func NewESIM(provider string, now time.Time) *switchboard.Sim {
	return &switchboard.Sim{Object: "sim", ID: id.New(id.Sim), ICCID: NewICCID(), Provider: provider,
		Status: SimInactive, Type: "eSIM", CreatedAt: now}
}

// NewICCID returns a random 20-digit ICCID (industry prefix 89, US country
// code 01) ending in its Luhn check digit.
func NewICCID() string {
	n, err := rand.Int(rand.Reader, big.NewInt(1e15))
	if err != nil {
		panic("catalog: no randomness: " + err.Error())
	}
	body := fmt.Sprintf("89010%014d", n.Int64()%1e14)
	return body + string(rune('0'+LuhnDigit(body)))
}

// LuhnDigit returns the Luhn check digit for a string of digits.
func LuhnDigit(digits string) int {
	sum := 0
	double := true
	for i := len(digits) - 1; i >= 0; i-- {
		d := int(digits[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return (10 - sum%10) % 10
}

// PutSim stores a SIM.
func PutSim(ctx context.Context, tx *store.Tx, project string, sim *switchboard.Sim) error {
	if err := tx.Put(ctx, store.Resource{Kind: SimKind, Project: project, ID: sim.ID, Status: sim.Status, Body: sim}); err != nil {
		return fmt.Errorf("catalog: put sim: %w", err)
	}
	return nil
}

// LoadSim reads a SIM; a missing one is the API's simNotFound.
func LoadSim(ctx context.Context, tx *store.Tx, project, simID string) (*switchboard.Sim, error) {
	var s switchboard.Sim
	if err := tx.Read(ctx, SimKind, project, simID, &s); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, failure.New(failure.NotFound, "simNotFound", "The SIM %s was not found.", simID)
		}
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return &s, nil
}
