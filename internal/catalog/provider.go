package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"slices"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/failure"
	"github.com/switchboard-dev/switchboard/internal/store"
)

// ServiceProviderKind is the store kind of service providers, which belong
// to no project.
const ServiceProviderKind = "serviceProvider"

// Recipient network providers a number can be ported to.
var NetworkProviders = []string{"p1", "p3", "p9"}

// Carrier is a donor carrier of the seeded catalog and the porting fields it
// asks for.
type Carrier struct {
	Name     string
	Required []string
}

// Porting fields.
const (
	FieldAccountNumber         = "accountNumber"
	FieldAccountPin            = "accountPin"
	FieldAddress               = "address"
	FieldBirthday              = "birthday"
	FieldDonorProvider         = "donorProvider"
	FieldDonorProviderApproval = "donorProviderApproval"
	FieldFirstName             = "firstName"
	FieldLastName              = "lastName"
)

var (
	basic = []string{FieldAccountNumber, FieldAccountPin, FieldDonorProvider, FieldFirstName, FieldLastName}
	all   = []string{FieldAccountNumber, FieldAccountPin, FieldAddress, FieldBirthday, FieldDonorProvider,
		FieldDonorProviderApproval, FieldFirstName, FieldLastName}
	withAddress = []string{FieldAccountNumber, FieldAccountPin, FieldAddress, FieldDonorProvider, FieldFirstName, FieldLastName}
)

// Carriers are the US donor carriers seeded on first start.
var Carriers = []Carrier{
	{"AT&T", all},
	{"Verizon", withAddress},
	{"T-Mobile", basic},
	{"UScellular", withAddress},
	{"Cricket Wireless", basic},
	{"Boost Mobile", withAddress},
	{"Metro by T-Mobile", basic},
	{"Visible", basic},
	{"Mint Mobile", basic},
	{"Google Fi", basic},
	{"Consumer Cellular", withAddress},
	{"Straight Talk", basic},
	{"Xfinity Mobile", withAddress},
	{"Spectrum Mobile", withAddress},
	{"US Mobile", basic},
}

// Provider is a stored service provider: its wire object and the porting
// fields it asks for as a donor.
type Provider struct {
	switchboard.ServiceProvider
	// Required are the porting fields the carrier needs as a donor.
	Required []string `json:"requiredFields"`
	// Network, for a recipient provider, is its network provider ID.
	Network string `json:"network,omitempty"`
}

// providerID derives a stable ID from the name, so that every install of the
// catalog names the same carrier alike.
func providerID(name string) string {
	sum := sha256.Sum256([]byte("serviceProvider:" + name))
	s := new(big.Int).SetBytes(sum[:]).Text(62)
	return "svp_" + s[:22]
}

// SeedProviders stores the donor carriers and recipient networks if they are
// missing.
func SeedProviders(ctx context.Context, tx *store.Tx) error {
	var providers []Provider
	for _, c := range Carriers {
		providers = append(providers, Provider{
			ServiceProvider: switchboard.ServiceProvider{Object: "serviceProvider", ID: providerID(c.Name), Name: c.Name,
				RecipientProviders: NetworkProviders},
			Required: c.Required,
		})
	}
	for _, n := range NetworkProviders {
		name := "Switchboard Mobile (" + n + ")"
		providers = append(providers, Provider{
			ServiceProvider: switchboard.ServiceProvider{Object: "serviceProvider", ID: providerID(name), Name: name,
				RecipientProviders: []string{n}},
			Network: n,
		})
	}
	for _, p := range providers {
		var existing Provider
		err := tx.GetForUpdate(ctx, ServiceProviderKind, "", p.ID, &existing)
		if err == nil {
			continue
		}
		if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("catalog: seed providers: %w", err)
		}
		role := "donor"
		if p.Network != "" {
			role = "recipient"
		}
		if err := tx.Put(ctx, store.Resource{Kind: ServiceProviderKind, ID: p.ID, Status: role, Body: p}); err != nil {
			return fmt.Errorf("catalog: seed providers: %w", err)
		}
	}
	return nil
}

// ServiceProviders lists the donor carriers, optionally those that port to
// one recipient network provider.
func ServiceProviders(ctx context.Context, tx *store.Tx, recipientProvider string, p store.Page) ([]switchboard.ServiceProvider, store.Cursors, error) {
	out := []switchboard.ServiceProvider{}
	var cursors store.Cursors
	for first := true; ; first = false {
		items, cur, err := tx.List(ctx, store.Query{Kind: ServiceProviderKind, Project: "", Status: "donor", Page: p})
		if err != nil {
			return nil, store.Cursors{}, fmt.Errorf("catalog: list providers: %w", err)
		}
		if first {
			cursors.MoreBefore = cur.MoreBefore
		}
		for _, b := range items {
			var sp Provider
			if err := json.Unmarshal(b, &sp); err != nil {
				return nil, store.Cursors{}, fmt.Errorf("catalog: decode provider: %w", err)
			}
			if recipientProvider != "" && !slices.Contains(sp.RecipientProviders, recipientProvider) {
				continue
			}
			if len(out) == p.Limit {
				cursors.MoreAfter = out[len(out)-1].ID
				return out, cursors, nil
			}
			out = append(out, sp.ServiceProvider)
		}
		if cur.MoreAfter == "" {
			return out, cursors, nil
		}
		p.After = cur.MoreAfter
	}
}

// DonorProvider loads a donor carrier; a missing one is the API's
// portingDonorProviderNotFound.
func DonorProvider(ctx context.Context, tx *store.Tx, id string) (*Provider, error) {
	var p Provider
	if err := tx.Read(ctx, ServiceProviderKind, "", id, &p); err != nil || p.Network != "" {
		if err == nil || errors.Is(err, store.ErrNotFound) {
			return nil, failure.New(failure.NotFound, "portingDonorProviderNotFound", "The donor provider %s was not found.", id)
		}
		return nil, fmt.Errorf("catalog: %w", err)
	}
	return &p, nil
}

// RecipientProvider returns the service provider of a recipient network
// provider; an unknown one is the API's portingProviderNotFound.
func RecipientProvider(ctx context.Context, tx *store.Tx, network string) (*Provider, error) {
	if !slices.Contains(NetworkProviders, network) {
		return nil, failure.New(failure.NotFound, "portingProviderNotFound", "The network provider %q was not found; known: p1, p3, p9.", network)
	}
	var p Provider
	id := providerID("Switchboard Mobile (" + network + ")")
	if err := tx.Read(ctx, ServiceProviderKind, "", id, &p); err != nil {
		return nil, fmt.Errorf("catalog: recipient provider %s: %w", network, err)
	}
	return &p, nil
}
