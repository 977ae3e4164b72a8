package scaleout_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/switchboard-dev/switchboard/internal/server/servertest"
)

// binary is the switchboard command, built once for the package's tests.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "switchboard-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "switchboard")
	build := exec.Command("go", "build", "-o", binary, "github.com/switchboard-dev/switchboard/cmd/switchboard")
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "build switchboard: %v\n%s", err, out)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// syncBuffer is a bytes.Buffer safe for a child's output and the test.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// proc is one `switchboard serve` child process.
type proc struct {
	Name string
	URL  string
	cmd  *exec.Cmd
	logs *syncBuffer
	done chan struct{} // closed when the process has exited
}

// serveEnv is the environment every child gets on top of the test's: the
// known API key, the simulator endpoints (the clock), JSON logs, and
// loopback receivers allowed.
var serveEnv = []string{
	"SWITCHBOARD_API_KEY=" + apiKey,
	"SWITCHBOARD_SIMULATOR=true",
	"SWITCHBOARD_LOG_FORMAT=json",
	"SWITCHBOARD_ALLOW_PRIVATE_ENDPOINTS=true",
	"SWITCHBOARD_SECRET_KEY=" + servertest.SecretKey,
}

// testLease is the children's delivery lease: a killed process's claims
// come due again this long after they were made. An attempt must finish
// within it, hence the shorter webhook timeout.
const testLease = 3 * time.Second

// serveArgs are the flags every child gets.
var serveArgs = []string{
	"--addr", "127.0.0.1:0", "--project", "dev",
	"--webhook-lease", testLease.String(), "--webhook-timeout", "2s",
	// The tests load the servers with one key, as the bench does.
	"--api-rate-limit", "0",
}

// startServe starts `switchboard serve` on db, with serveArgs and args, and
// waits until it listens. The process is stopped when the test ends; its
// log is shown if the test failed.
func startServe(t *testing.T, name, db string, args ...string) *proc {
	t.Helper()
	p := &proc{Name: name, logs: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(binary, append(append([]string{"serve", "--db", db}, serveArgs...), args...)...)
	p.cmd.Env = append(os.Environ(), serveEnv...)
	p.cmd.Stderr = p.logs
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	urls := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			p.logs.Write([]byte(line + "\n"))
			if _, rest, ok := strings.Cut(line, "listening on "); ok {
				urls <- strings.Fields(rest)[0]
			}
		}
	}()
	go func() { p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		p.Stop()
		if t.Failed() {
			t.Logf("--- log of %s ---\n%s", name, tail(p.logs.String(), 60))
		}
	})
	select {
	case p.URL = <-urls:
	case <-p.done:
		t.Fatalf("%s exited before listening:\n%s", name, p.logs.String())
	case <-time.After(30 * time.Second):
		t.Fatalf("%s did not listen within 30s:\n%s", name, p.logs.String())
	}
	return p
}

func tail(s string, lines int) string {
	all := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(all[max(0, len(all)-lines):], "\n")
}

// Kill kills the process with SIGKILL — no shutdown, claims held — and
// waits until it is gone.
func (p *proc) Kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop asks the process to shut down (SIGTERM), killing it if it has not
// within 15 s.
func (p *proc) Stop() {
	select {
	case <-p.done:
		return
	default:
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.Kill()
	}
}

// Alive reports whether the process is running.
func (p *proc) Alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// client talks to the API.
var client = &http.Client{Timeout: 30 * time.Second}

// call sends a request with the test's API key and a JSON body, and decodes
// a JSON answer into out when out is not nil.
func call(ctx context.Context, method, url string, body, out any) (int, error) {
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, r)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, err
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s: %w", b, err)
		}
	}
	if resp.StatusCode >= 300 {
		return resp.StatusCode, fmt.Errorf("%s %s: %d %s", method, url, resp.StatusCode, bytes.TrimSpace(b))
	}
	return resp.StatusCode, nil
}

// receipt is one webhook request a receiver got.
type receipt struct {
	Endpoint string // the receiver path, one per endpoint
	EventID  string
	At       time.Time
}

// receiver is a webhook receiver for several endpoints (one path each)
// that records every request and answers 204.
type receiver struct {
	*httptest.Server
	mu       sync.Mutex
	receipts []receipt
	count    map[[2]string]int
	// maxDelay, when set, makes each answer wait up to that long, so that
	// attempts are in flight when a process is killed.
	maxDelay time.Duration
}

func newReceiver(t *testing.T) *receiver {
	t.Helper()
	rc := &receiver{count: map[[2]string]int{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			ID string `json:"id"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.ID == "" {
			http.Error(w, "no event ID", http.StatusBadRequest)
			return
		}
		rc.mu.Lock()
		rc.receipts = append(rc.receipts, receipt{Endpoint: r.URL.Path, EventID: body.ID, At: time.Now()})
		rc.count[[2]string{r.URL.Path, body.ID}]++
		delay := rc.maxDelay
		rc.mu.Unlock()
		if delay > 0 {
			time.Sleep(rand.N(delay)) // a slow receiver, not a wait for a condition
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	return rc
}

// got returns how often the endpoint at path received the event.
func (rc *receiver) got(path, eventID string) int {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return rc.count[[2]string{path, eventID}]
}

// firstAt returns when the endpoint at path first received the event.
func (rc *receiver) firstAt(path, eventID string) time.Time {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for _, r := range rc.receipts {
		if r.Endpoint == path && r.EventID == eventID {
			return r.At
		}
	}
	return time.Time{}
}
