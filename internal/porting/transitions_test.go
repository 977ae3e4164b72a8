package porting

import (
	"fmt"
	"slices"
	"testing"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/catalog"
)

// fill gives the porting every field it lacks, as an update would.
func fill(r *record) {
	for _, f := range r.missing() {
		switch f {
		case catalog.FieldAccountNumber:
			r.AccountNumber = ptr("ACC-1")
		case catalog.FieldAccountPin:
			r.AccountPin, r.AccountPinExists = ptr("1234"), true
		case catalog.FieldAddress:
			r.Address = &switchboard.Address{Line1: "1 Main St", City: "Springfield", PostalCode: "12345", Country: "US"}
		case catalog.FieldBirthday:
			r.Birthday = ptr("1990-01-01")
		case catalog.FieldDonorProvider:
			r.DonorProvider = &switchboard.ServiceProvider{ID: "svp_1"}
		case catalog.FieldDonorProviderApproval:
			r.DonorProviderApproval = ptr(true)
		case catalog.FieldFirstName:
			r.FirstName = ptr("Ada")
		case catalog.FieldLastName:
			r.LastName = ptr("Lovelace")
		}
	}
}

// TestTransitionTable explores the porting state machine from fresh drafts
// (with and without missing fields, with and without a donor approval to
// ask for) by applying every operation of machine.go to every record it
// reaches, and checks that the changes of status it observes are exactly
// the table's: none the table lacks, and none of the table's unreachable.
func TestTransitionTable(t *testing.T) {
	type op struct {
		on string
		do func(r *record) (deleted bool, err error)
	}
	// An update gives the missing fields, or gives none, or names another
	// donor, who may require more.
	update := func(fillIn, newDonor bool) func(r *record) (bool, error) {
		return func(r *record) (bool, error) {
			if err := r.updatable(); err != nil {
				return false, err
			}
			if fillIn {
				fill(r)
			}
			if newDonor {
				r.Required = []string{catalog.FieldAccountNumber, catalog.FieldAccountPin, catalog.FieldAddress,
					catalog.FieldBirthday, catalog.FieldDonorProvider, catalog.FieldFirstName, catalog.FieldLastName}
			}
			r.retry()
			return false, nil
		}
	}
	ops := []op{
		{OnOpen, func(r *record) (bool, error) { return false, r.take("sub_1", now) }},
		{OnUpdate, update(true, false)},
		{OnUpdate, update(false, false)},
		{OnUpdate, update(false, true)},
		{OnRequest, func(r *record) (bool, error) { return false, r.request(now) }},
		{OnDecline, func(r *record) (bool, error) { return false, r.decline("portingAccountPinRequiredOrInvalid", now) }},
		{OnDecline, func(r *record) (bool, error) { return false, r.decline("portingDeclined", now) }},
		{OnRequireInformation, func(r *record) (bool, error) { return false, r.requireInformation() }},
		{OnComplete, func(r *record) (bool, error) { return false, r.complete(now) }},
		{OnCancel, func(r *record) (bool, error) { return false, r.cancel(now) }},
		{OnClose, func(r *record) (bool, error) { return false, r.close(now) }},
		{OnExpire, func(r *record) (bool, error) { return false, r.expire(now) }},
		{OnDelete, func(r *record) (bool, error) { return r.deletable() == nil, r.deletable() }},
	}
	key := func(r *record) string {
		return fmt.Sprint(r.Status, len(r.missing()), r.ApprovalAsked, r.DeclinedCode != nil && slices.Contains(healable, *r.DeclinedCode), r.Subscription != nil)
	}
	// Create makes drafts; these are drafts as Create may leave them.
	seeds := []*record{
		porting(switchboard.PortingDraft),
		porting(switchboard.PortingDraft, catalog.FieldAccountNumber, catalog.FieldAccountPin),
		porting(switchboard.PortingDraft, catalog.FieldFirstName, catalog.FieldDonorProviderApproval),
	}
	seen := map[Transition]bool{}
	for _, s := range seeds {
		seen[Transition{"", s.Status, OnCreate}] = true
	}
	visited := map[string]bool{}
	queue := seeds
	for len(queue) > 0 {
		r := queue[0]
		queue = queue[1:]
		if visited[key(r)] {
			continue
		}
		visited[key(r)] = true
		for _, o := range ops {
			next := *r
			deleted, err := o.do(&next)
			switch {
			case err != nil:
				if next.Status != r.Status {
					t.Errorf("%s of a %s porting failed (%v) but changed its status to %s", o.on, r.Status, err, next.Status)
				}
			case deleted:
				seen[Transition{r.Status, "", o.on}] = true
			case next.Status != r.Status:
				seen[Transition{r.Status, next.Status, o.on}] = true
				queue = append(queue, &next)
			default:
				queue = append(queue, &next)
			}
		}
	}
	table := map[Transition]bool{}
	for _, tr := range Transitions() {
		table[tr] = true
		if !seen[tr] {
			t.Errorf("the table has %q → %q on %s, which the machine never makes", tr.From, tr.To, tr.On)
		}
	}
	for tr := range seen {
		if !table[tr] {
			t.Errorf("the machine makes %q → %q on %s, which the table lacks", tr.From, tr.To, tr.On)
		}
	}
}
