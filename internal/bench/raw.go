package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/switchboard-dev/switchboard"
	"github.com/switchboard-dev/switchboard/internal/eventlog"
	"github.com/switchboard-dev/switchboard/internal/store"
	"github.com/switchboard-dev/switchboard/webhook"
)

// RawResult is the ceiling: the receiver alone, hit by an HTTP client set up
// as the dispatcher's, sending signed, rendered events.
type RawResult struct {
	// Requests is how many requests were accepted in Duration (the
	// warm-up excluded); PerSec their rate.
	Requests int64
	Duration time.Duration
	PerSec   float64
	// Latency is the distribution of the requests' round trips.
	Latency Summary
	// Concurrency is how many senders ran.
	Concurrency int
	// Verified is how many signatures the receiver fully verified.
	Verified int64
}

// sampleEvent is a realistic rendered event: a porting.updated with its
// previousData, about the size the lifecycles deliver.
func sampleEvent() ([]byte, error) {
	data := []byte(`{"object":"porting","id":"prt_0123456789abcdef","accountNumber":"ACC-1001","accountPinExists":true,` +
		`"address":{"city":"New York City","country":"US","line1":"129 West 81st Street","line2":null,"postalCode":"10024","state":"NY"},` +
		`"birthday":"1970-01-01","canceledAt":null,"completedAt":null,"createdAt":"2026-11-23T12:00:00Z","declinedAttempts":0,` +
		`"declinedCode":null,"declinedMessage":null,"donorProvider":{"object":"serviceProvider","id":"svp_att","name":"AT&T","recipientProviders":["p9"]},` +
		`"donorProviderApproval":null,"expiredAt":null,"firstName":"Bench","lastName":"User","lastRequestedAt":"2026-11-23T12:00:00Z",` +
		`"phoneNumber":"+12012001234","provider":"p9","required":[],"status":"requested","subscription":"sub_0123456789abcdef",` +
		`"user":{"object":"user","id":"usr_0123456789abcdef","birthday":null,"email":"bench@example.com","emailVerified":false,` +
		`"fullName":"Bench User","preferredLocale":null,"createdAt":"2026-11-23T12:00:00Z"}}`)
	e := store.EventRow{ID: "evt_0123456789abcdef", Project: "dev", Type: switchboard.TypePortingUpdated, Resource: "prt_0123456789abcdef",
		Time: time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC), Source: eventlog.DefaultSource, Data: data,
		PreviousData: []byte(`{"status":"pending","lastRequestedAt":null}`), Actor: []byte(`{"type":"apiKey","apiKey":"key_0123456789abcdef"}`)}
	b, err := eventlog.Render(e, switchboard.LatestVersion)
	if err != nil {
		return nil, fmt.Errorf("bench: render sample event: %w", err)
	}
	return b, nil
}

// rawClient is an HTTP client set up as the dispatcher's.
func rawClient(workers int) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	return &http.Client{Transport: &http.Transport{
		Proxy: nil, DialContext: dialer.DialContext, ForceAttemptHTTP2: true,
		MaxIdleConns: 4 * workers, MaxIdleConnsPerHost: workers, IdleConnTimeout: 90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}}
}

// runRaw measures the receiver alone for d with concurrency senders, each
// signing every request (HMAC-SHA256, as the dispatcher does) and POSTing a
// rendered event. The receiver does what it does during the other
// scenarios: checks the headers, verifies one signature in verifyEvery,
// finds the event's type and resource, and notes the receipt.
func runRaw(ctx context.Context, d time.Duration, concurrency int, verifyEvery int64) (RawResult, error) {
	res := RawResult{Concurrency: concurrency}
	secret, err := webhook.NewSecret()
	if err != nil {
		return res, err
	}
	signer, err := webhook.NewSigner(secret)
	if err != nil {
		return res, err
	}
	body, err := sampleEvent()
	if err != nil {
		return res, err
	}
	rcv := &Receiver{VerifyEvery: verifyEvery, tracker: newTracker(1)}
	if _, err := rcv.AddEndpoint(secret); err != nil {
		return res, err
	}
	if err := rcv.Start(); err != nil {
		return res, err
	}
	defer rcv.Close()
	target := rcv.URL(0)
	hc := rawClient(concurrency)
	defer hc.CloseIdleConnections()
	// Half a second of warm-up (connections, buffers) is not counted.
	const warmup = 500 * time.Millisecond
	ctx, cancel := context.WithTimeout(ctx, d+warmup)
	defer cancel()
	var counting atomic.Bool
	var lat samples
	var n, errs atomic.Int64
	var seq atomic.Int64
	var wg sync.WaitGroup
	for range concurrency {
		wg.Go(func() {
			local := make([]time.Duration, 0, 4096)
			defer func() { lat.addAll(local) }()
			for ctx.Err() == nil {
				id := "evt_raw" + strconv.FormatInt(seq.Add(1), 10)
				t0 := time.Now()
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
				if err != nil {
					errs.Add(1)
					return
				}
				req.Header = http.Header{
					"Content-Type":      {"application/json"},
					"User-Agent":        {"Switchboard-Webhooks/1"},
					"webhook-id":        {id},
					"webhook-timestamp": {strconv.FormatInt(t0.Unix(), 10)},
					"webhook-signature": {signer.Sign(id, t0, body)},
				}
				resp, err := hc.Do(req)
				if err != nil {
					if ctx.Err() == nil {
						errs.Add(1)
					}
					continue
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if !counting.Load() {
					continue
				}
				if resp.StatusCode/100 == 2 {
					n.Add(1)
					local = append(local, time.Since(t0))
				} else {
					errs.Add(1)
				}
			}
		})
	}
	time.Sleep(warmup)
	counting.Store(true)
	start := time.Now()
	wg.Wait()
	res.Duration = time.Since(start)
	res.Verified = rcv.verified.Load()
	res.Requests = n.Load()
	res.PerSec = float64(res.Requests) / res.Duration.Seconds()
	res.Latency = Summarize(lat.take())
	if e := errs.Load(); e > 0 && res.Requests == 0 {
		return res, fmt.Errorf("bench: raw: every request failed (%d)", e)
	}
	if rcv.badSig.Load() > 0 {
		return res, fmt.Errorf("bench: raw: %d signatures did not verify", rcv.badSig.Load())
	}
	return res, nil
}
