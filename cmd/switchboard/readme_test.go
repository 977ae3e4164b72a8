//go:build unix

package main

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// serveLine is the line of the walk-through that starts the server; the
// test runs the binary it built in its place.
const serveLine = "go run ./cmd/switchboard serve"

// readmeBlock returns the shell code between the README's markers.
func readmeBlock(t *testing.T, readme, name string) string {
	t.Helper()
	_, rest, ok := strings.Cut(readme, "<!-- "+name+":begin -->\n```sh\n")
	if !ok {
		t.Fatalf("README.md has no <!-- %s:begin --> followed by a sh block", name)
	}
	block, _, ok := strings.Cut(rest, "```\n<!-- "+name+":end -->")
	if !ok {
		t.Fatalf("README.md's %s block does not end with ``` and <!-- %s:end -->", name, name)
	}
	return block
}

// expectedOutput returns what the README says the block prints: the text
// after each "# → ", in order.
func expectedOutput(block string) []string {
	var out []string
	for _, line := range strings.Split(block, "\n") {
		if _, want, ok := strings.Cut(line, "# → "); ok {
			out = append(out, strings.TrimSpace(want))
		}
	}
	return out
}

// requireTools skips the test when a tool is missing, except under CI,
// where .ci/run installs them and a missing one is a failure.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required under CI (.ci/run installs it): %v", tool, err)
			}
			t.Skipf("SKIPPED: the README walk-through needs %s: %v", tool, err)
		}
	}
}

// buildBinary builds cmd/switchboard into dir with the extra environment.
func buildBinary(t *testing.T, dir string, env ...string) string {
	t.Helper()
	bin := filepath.Join(dir, "switchboard")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %v: %v\n%s", env, err, out)
	}
	return bin
}

// freeAddr returns a loopback address with a port free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// cleanEnv is the environment without Switchboard's variables, plus extra.
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "SWITCHBOARD_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// stopGroup ends the process group (the shell and the server it started in
// the background) and waits until it is gone.
func stopGroup(t *testing.T, pgid int) {
	t.Helper()
	syscall.Kill(-pgid, syscall.SIGTERM)
	deadline := time.Now().Add(15 * time.Second)
	for syscall.Kill(-pgid, 0) == nil {
		if time.Now().After(deadline) {
			syscall.Kill(-pgid, syscall.SIGKILL)
			t.Errorf("the walk-through's processes did not stop within 15s of SIGTERM")
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestREADMEWalkthrough runs the README's walk-through, its clock example
// and its magic-number example with bash, as a newcomer pastes them,
// against a server binary built from this tree, and checks that they print
// what the README says.
func TestREADMEWalkthrough(t *testing.T) {
	requireTools(t, "bash", "curl", "jq", "go")
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	walk := readmeBlock(t, readme, "walkthrough")
	// The blocks that follow it in the README use its server and helpers.
	clock := readmeBlock(t, readme, "clock")
	magic := readmeBlock(t, readme, "magic")
	if strings.Count(walk, serveLine) != 1 {
		t.Fatalf("the walk-through must start the server once with %q", serveLine)
	}
	var want []string
	for _, block := range []string{walk, clock, magic} {
		want = append(want, expectedOutput(block)...)
	}
	if len(want) < 10 {
		t.Fatalf("the README states %d outputs; it should state what each step prints", len(want))
	}

	dir := t.TempDir()
	bin := buildBinary(t, dir)
	script := filepath.Join(dir, "walkthrough.sh")
	code := strings.Replace(walk, serveLine, bin+" serve", 1) + clock + magic
	if err := os.WriteFile(script, []byte(code), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	stdout, err := os.Create(filepath.Join(dir, "stdout"))
	if err != nil {
		t.Fatal(err)
	}
	defer stdout.Close()
	stderr, err := os.Create(filepath.Join(dir, "stderr"))
	if err != nil {
		t.Fatal(err)
	}
	defer stderr.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", script)
	cmd.Dir = dir
	// The README's defaults but the address, so that the test needs no
	// fixed port, and a shorter simulator delay (1 s, not 2 s): still long
	// enough that the magic porting is seen pending before it moves.
	cmd.Env = cleanEnv("SWITCHBOARD_ADDR="+addr, "SWITCHBOARD_API_URL=http://"+addr, "SWITCHBOARD_SIMULATOR_DELAY=1s")
	// Files, not pipes: the server the script leaves running holds them
	// open, and Wait would wait for it.
	cmd.Stdout, cmd.Stderr = stdout, stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	runErr := cmd.Wait()
	stopGroup(t, cmd.Process.Pid)

	out, _ := os.ReadFile(stdout.Name())
	errOut, _ := os.ReadFile(stderr.Name())
	log, _ := os.ReadFile(filepath.Join(dir, "switchboard.log"))
	report := func() {
		t.Logf("stdout:\n%s\nstderr:\n%s\nswitchboard.log:\n%s", out, errOut, log)
	}
	var exit *exec.ExitError
	if runErr != nil && !errors.As(runErr, &exit) {
		report()
		t.Fatalf("bash: %v", runErr)
	}
	if runErr != nil {
		t.Errorf("the walk-through failed: %v", runErr)
	}
	got := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	for i := 0; i < max(len(got), len(want)); i++ {
		var g, w string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if g != w {
			t.Errorf("output line %d is %q; the README says %q", i+1, g, w)
		}
	}
	if len(errOut) > 0 {
		t.Errorf("the walk-through wrote to stderr: %s", errOut)
	}
	if t.Failed() {
		report()
	}
}
