package switchboard_test

import (
	"errors"
	"fmt"

	"github.com/switchboard-dev/switchboard"
)

func ExampleParse() {
	body := []byte(`{
		"object": "event",
		"id": "evt_0SNlurA049MEWV5gNTcQ5A07h3Ol",
		"data": {
			"object": "porting",
			"id": "prt_0SNlurA049MEWV39s2kSYqaat7ZS",
			"declinedAttempts": 1,
			"declinedCode": "portingPhoneNumberPortProtected",
			"phoneNumber": "+19591234567",
			"status": "declined",
			"createdAt": "2021-01-21T19:12:28Z"
		},
		"datacontenttype": "application/json",
		"project": "gigs",
		"source": "https://api.gigs.com",
		"specversion": "1.0",
		"time": "2022-03-16T14:12:42Z",
		"type": "com.gigs.porting.declined",
		"version": "2024-10-28"
	}`)

	ev, err := switchboard.Parse(body)
	if err != nil {
		panic(err)
	}
	switch ev.Type {
	case switchboard.TypePortingDeclined:
		p, _ := ev.Porting()
		fmt.Println(p.ID, p.Status, *p.DeclinedCode, p.DeclinedAttempts)
	}
	// Output: prt_0SNlurA049MEWV39s2kSYqaat7ZS declined portingPhoneNumberPortProtected 1
}

func ExampleParse_unknownType() {
	// Types added after this package was written parse with raw data.
	ev, err := switchboard.Parse([]byte(`{"object":"event","id":"evt_1","type":"com.gigs.esim.downloaded",` +
		`"data":{"object":"esimDownload"},"time":"2025-06-01T12:00:00Z"}`))
	fmt.Println(ev.Type, ev.Resource, string(ev.Data), err)

	_, err = switchboard.Parse([]byte(`{"object":"list","items":[]}`))
	fmt.Println(errors.Is(err, switchboard.ErrNotEvent))
	// Output:
	// com.gigs.esim.downloaded <nil> {"object":"esimDownload"} <nil>
	// true
}
