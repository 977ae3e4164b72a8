package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	iofs "io/fs"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/switchboard-dev/switchboard/internal/client"
	"github.com/switchboard-dev/switchboard/webhook"
)

func init() {
	commands["listen"] = command{"receive the project's events and forward them, signed, to a local URL", listen}
}

// forwardTimeout is how long the local handler may take, as long as the
// platform gives a receiver.
const forwardTimeout = 15 * time.Second

func listen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("listen", stderr)
	api := addAPIFlags(fs)
	forwardTo := fs.String("forward-to", "", "the local URL to forward each event to, such as http://localhost:3000/webhooks (none: only print)")
	events := fs.String("events", "*", "event types or wildcards to receive, comma-separated (com.gigs.porting.*)")
	version := fs.String("version", "", "the API version to render events in (default the newest)")
	secret := fs.String("secret", "",
		"the whsec_ secret to sign forwarded events with (default one kept in the user's config folder)")
	addr := fs.String("listen-addr", "127.0.0.1:0", "where the CLI receives the server's deliveries")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: switchboard listen [--forward-to URL] [--events T,T…] [flags]\n\nFlags:")
		fs.PrintDefaults()
	}
	if err := parseNone(fs, args); err != nil {
		return err
	}
	c, err := api.client()
	if err != nil {
		return err
	}
	sec, where, err := forwardSecret(*secret)
	if err != nil {
		return err
	}
	signer, err := webhook.NewSigner(sec)
	if err != nil {
		return fmt.Errorf("forward secret: %w", err)
	}

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	receiveURL := "http://" + ln.Addr().String() + "/"
	host := hostname()
	reapTemporary(ctx, c, host, processAlive, stdout, stderr)
	desc := temporaryDescription(host, os.Getpid())
	ep, err := c.CreateEndpoint(ctx, client.EndpointParams{URL: receiveURL, EnabledEvents: splitList(*events), Version: *version, Description: &desc})
	if err != nil {
		ln.Close()
		return fmt.Errorf("create the temporary webhook endpoint: %w", err)
	}
	verifier, err := webhook.NewVerifier(ep.Secret)
	if err != nil {
		ln.Close()
		deleteEndpoint(c, ep.ID, stderr)
		return fmt.Errorf("the endpoint's secret: %w", err)
	}
	fw := &forwarder{
		verifier: verifier, signer: signer, target: *forwardTo, out: stdout,
		http: &http.Client{Timeout: forwardTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }},
	}
	srv := &http.Server{Handler: fw, ReadHeaderTimeout: 10 * time.Second,
		ErrorLog: slog.NewLogLogger(slog.NewTextHandler(stderr, nil), slog.LevelWarn)}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()

	target := *forwardTo
	if target == "" {
		target = "nowhere (printing only; pass --forward-to)"
	}
	fmt.Fprintf(stdout, "Forwarding the events of project %s at %s to %s\n", c.Project, c.BaseURL, target)
	fmt.Fprintf(stdout, "Webhook signing secret: %s (%s)\n", sec, where)
	fmt.Fprintf(stdout, "Temporary endpoint %s receives at %s; press Ctrl-C to stop.\n", ep.ID, receiveURL)
	fmt.Fprintln(stdout, "Ready.")

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-done:
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	srv.Shutdown(sctx)
	deleteEndpoint(c, ep.ID, stderr)
	fmt.Fprintf(stdout, "Deleted the temporary endpoint %s.\n", ep.ID)
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("receive deliveries: %w", serveErr)
	}
	return nil
}

// deleteEndpoint deletes the temporary endpoint, even after ctx ended.
func deleteEndpoint(c *client.Client, id string, stderr io.Writer) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.DeleteEndpoint(ctx, id); err != nil {
		fmt.Fprintf(stderr, "switchboard listen: delete the temporary endpoint %s: %v\n", id, err)
	}
}

// forwardSecret returns the secret to sign forwarded events with and where
// it comes from: the flag, or the one kept in the user's config folder
// (made on first use), so that it stays the same from run to run.
func forwardSecret(flagValue string) (secret, where string, err error) {
	if flagValue != "" {
		if _, err := webhook.NewSigner(flagValue); err != nil {
			return "", "", fmt.Errorf("--secret: %w", err)
		}
		return flagValue, "from --secret", nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		s, err := webhook.NewSecret()
		return s, "new for this run: no config folder to keep it in", err
	}
	path := filepath.Join(dir, "switchboard", "listen-secret")
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		s := strings.TrimSpace(string(b))
		if _, err := webhook.NewSigner(s); err != nil {
			return "", "", fmt.Errorf("the secret in %s: %w", path, err)
		}
		return s, "kept in " + path, nil
	case !errors.Is(err, iofs.ErrNotExist):
		return "", "", fmt.Errorf("read the listen secret: %w", err)
	}
	s, err := webhook.NewSecret()
	if err != nil {
		return "", "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", "", fmt.Errorf("keep the listen secret: %w", err)
	}
	if err := os.WriteFile(path, []byte(s+"\n"), 0o600); err != nil {
		return "", "", fmt.Errorf("keep the listen secret: %w", err)
	}
	return s, "new, kept in " + path, nil
}

// forwarder receives the server's deliveries, verifies them, forwards them
// re-signed to the local URL and answers the server with the local answer.
type forwarder struct {
	verifier *webhook.Verifier
	signer   *webhook.Signer
	target   string
	http     *http.Client

	mu  sync.Mutex // serializes the printed lines
	out io.Writer
}

// ServeHTTP handles one delivery.
func (f *forwarder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, webhook.DefaultMaxBodySize))
	if err != nil {
		http.Error(w, "cannot read body", http.StatusBadRequest)
		return
	}
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	json.Unmarshal(body, &ev) // only for the printed line
	if err := f.verifier.Verify(r.Header, body); err != nil {
		f.print(ev.Type, ev.ID, "rejected: "+err.Error())
		http.Error(w, "invalid signature", http.StatusUnauthorized)
		return
	}
	if f.target == "" {
		f.print(ev.Type, ev.ID, "received")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	status, header, answer, err := f.forward(r.Context(), r.Header.Get(webhook.HeaderID), body)
	if err != nil {
		f.print(ev.Type, ev.ID, "-> "+err.Error())
		http.Error(w, "the local handler failed: "+err.Error(), http.StatusBadGateway)
		return
	}
	f.print(ev.Type, ev.ID, fmt.Sprintf("-> %d %s", status, http.StatusText(status)))
	// The server sees the local answer, so it retries (or disables the
	// endpoint, on 410) as it would for the real handler.
	if ra := header.Get("Retry-After"); ra != "" {
		w.Header().Set("Retry-After", ra)
	}
	w.WriteHeader(status)
	w.Write(answer)
}

// forward posts the event to the local URL, signed with the CLI's secret
// under the same webhook-id, and returns the answer.
func (f *forwarder) forward(ctx context.Context, msgID string, body []byte) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.target, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, fmt.Errorf("forward: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "switchboard-listen")
	f.signer.SetHeaders(req.Header, msgID, time.Now(), body)
	resp, err := f.http.Do(req)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("forward: %w", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	return resp.StatusCode, resp.Header, answer, nil
}

// print writes one line per event: time, type, ID and what happened.
func (f *forwarder) print(typ, id, what string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fmt.Fprintf(f.out, "%s  %-40s  %-32s  %s\n", time.Now().Format("2006-01-02 15:04:05"), orDash(typ), orDash(id), what)
}
