package porting

import (
	"slices"

	"github.com/switchboard-dev/switchboard"
)

// Transition is one edge of a state machine: On moves a resource from the
// status From to the status To. An empty From is the resource's creation,
// an empty To its deletion.
type Transition struct {
	From, To, On string
}

// The operations that move a porting, as the transition table names them.
const (
	OnCreate             = "create"
	OnOpen               = "open" // a subscription takes the draft
	OnUpdate             = "update"
	OnRequest            = ActionRequest
	OnDecline            = ActionDecline
	OnRequireInformation = ActionRequireInformation
	OnComplete           = ActionComplete
	OnCancel             = "cancel"
	OnClose              = "close" // its subscription ended for another reason
	OnExpire             = ActionExpire
	OnDelete             = "delete" // by the API, or by the timer of a forgotten draft
)

// transitions is the porting state machine: every change of status the
// record's methods (machine.go) make, and only those; TestTransitionTable
// explores the methods and holds them to it, and docs/architecture.md
// draws it.
var transitions = []Transition{
	{"", switchboard.PortingDraft, OnCreate},
	{switchboard.PortingDraft, "", OnDelete},
	{switchboard.PortingDraft, switchboard.PortingPending, OnOpen},
	{switchboard.PortingDraft, switchboard.PortingInformationRequired, OnOpen},
	{switchboard.PortingPending, switchboard.PortingInformationRequired, OnUpdate}, // another donor requires more
	{switchboard.PortingInformationRequired, switchboard.PortingPending, OnUpdate},
	{switchboard.PortingDeclined, switchboard.PortingPending, OnUpdate},
	{switchboard.PortingDeclined, switchboard.PortingInformationRequired, OnUpdate},
	{switchboard.PortingPending, switchboard.PortingRequested, OnRequest},
	{switchboard.PortingPending, switchboard.PortingInformationRequired, OnRequireInformation},
	{switchboard.PortingRequested, switchboard.PortingInformationRequired, OnRequireInformation},
	{switchboard.PortingRequested, switchboard.PortingDeclined, OnDecline},
	{switchboard.PortingRequested, switchboard.PortingCompleted, OnComplete},
	{switchboard.PortingPending, switchboard.PortingCanceled, OnCancel},
	{switchboard.PortingInformationRequired, switchboard.PortingCanceled, OnCancel},
	{switchboard.PortingRequested, switchboard.PortingCanceled, OnCancel},
	{switchboard.PortingPending, switchboard.PortingCanceled, OnClose},
	{switchboard.PortingInformationRequired, switchboard.PortingCanceled, OnClose},
	{switchboard.PortingRequested, switchboard.PortingCanceled, OnClose},
	{switchboard.PortingDeclined, switchboard.PortingCanceled, OnClose},
	{switchboard.PortingPending, switchboard.PortingExpired, OnExpire},
	{switchboard.PortingInformationRequired, switchboard.PortingExpired, OnExpire},
	{switchboard.PortingRequested, switchboard.PortingExpired, OnExpire},
	{switchboard.PortingDeclined, switchboard.PortingExpired, OnExpire},
}

// Transitions returns the porting state machine's transitions, a copy the
// caller may keep. Changes that keep the status (an update of a pending
// porting) are not transitions.
func Transitions() []Transition { return slices.Clone(transitions) }
