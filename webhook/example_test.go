package webhook_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/webhook"
)

func ExampleSign() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	ts := time.Unix(1614265330, 0)
	sig, err := webhook.Sign(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", ts, []byte(`{"test": 2432232314}`))
	if err != nil {
		panic(err)
	}
	fmt.Println(sig)
	// Output: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}

func ExampleVerify() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	body := []byte(`{"object":"event"}`)

	// The sender signs...
	signer, err := webhook.NewSigner(secret)
	if err != nil {
		panic(err)
	}
	header := http.Header{}
	signer.SetHeaders(header, "msg_1", time.Now(), body)

	// ...and the receiver verifies.
	fmt.Println(webhook.Verify(secret, header, body))
	fmt.Println(webhook.Verify(secret, header, []byte(`{"object":"forged"}`)))
	// Output:
	// <nil>
	// webhook: no matching signature
}

func ExampleVerifier() {
	// During a rotation the receiver accepts the new and the old secret.
	v, err := webhook.NewVerifier("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	if err != nil {
		panic(err)
	}
	v.Tolerance = time.Minute
	v.Now = func() time.Time { return time.Unix(1614265330, 0).Add(2 * time.Minute) }

	header := http.Header{}
	header.Set(webhook.HeaderID, "msg_p5jXN8AQM9LWM0D4loKWxJek")
	header.Set(webhook.HeaderTimestamp, "1614265330")
	header.Set(webhook.HeaderSignature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
	fmt.Println(v.Verify(header, []byte(`{"test": 2432232314}`)))
	// Output: webhook: timestamp too old: 2m0s before now
}

func ExampleHandler() {
	secret := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	h, err := webhook.NewHandler(secret)
	if err != nil {
		panic(err)
	}
	h.On(switchboard.TypePortingDeclined, func(ctx context.Context, ev *switchboard.ParsedEvent) error {
		p, _ := ev.Porting()
		fmt.Println("porting", p.ID, "declined:", *p.DeclinedCode)
		return nil
	})

	// A delivery as the platform sends it.
	body := []byte(`{"object":"event","id":"evt_1","data":{"object":"porting","id":"prt_1",` +
		`"declinedCode":"portingAccountPinRequiredOrInvalid","createdAt":"2025-06-01T11:00:00Z"},` +
		`"datacontenttype":"application/json","project":"gigs","source":"https://api.gigs.com",` +
		`"specversion":"1.0","time":"2025-06-01T12:00:00Z","type":"com.gigs.porting.declined","version":"2024-10-28"}`)
	signer, err := webhook.NewSigner(secret)
	if err != nil {
		panic(err)
	}
	deliver := func() int {
		req := httptest.NewRequest(http.MethodPost, "/webhooks", bytes.NewReader(body))
		signer.SetHeaders(req.Header, "msg_1", time.Now(), body)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}

	fmt.Println(deliver())
	fmt.Println(deliver()) // a duplicate: acknowledged, not handled again
	// Output:
	// porting prt_1 declined: portingAccountPinRequiredOrInvalid
	// 204
	// 204
}
