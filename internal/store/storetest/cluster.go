package storetest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// Cluster is a PostgreSQL server of a test's own, initialised in a
// temporary folder and listening on a free loopback port, so that the test
// may stop and start it without disturbing the others.
type Cluster struct {
	// URL connects to the cluster's "postgres" database as the superuser.
	URL  string
	Port int

	t      testing.TB
	bin    string // folder of initdb and pg_ctl
	dir    string // data folder
	runAs  string // PostgreSQL refuses to run as root: the user to run it as
	logLoc string
}

// StartCluster initialises and starts a PostgreSQL cluster of the test's
// own; it is stopped and removed when the test ends. Without PostgreSQL's
// binaries the test is skipped (or fails, when
// SWITCHBOARD_REQUIRE_POSTGRES=1).
func StartCluster(t testing.TB) *Cluster {
	t.Helper()
	c := &Cluster{t: t}
	skip := func(format string, args ...any) {
		t.Helper()
		if os.Getenv("SWITCHBOARD_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("a PostgreSQL cluster of the test's own is required (SWITCHBOARD_REQUIRE_POSTGRES=1): "+format, args...)
		}
		t.Skipf("SKIPPED: cannot run a PostgreSQL cluster of the test's own: "+format, args...)
	}
	c.bin = postgresBin()
	if c.bin == "" {
		skip("initdb and pg_ctl not found (looked in /usr/lib/postgresql/*/bin and PATH)")
	}
	base, err := os.MkdirTemp("", "switchboard-pg-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			skip("running as root and there is no postgres user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chmod(base, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(base, uid, gid); err != nil {
			t.Fatal(err)
		}
		c.runAs = "postgres"
	}
	c.dir = filepath.Join(base, "data")
	c.logLoc = filepath.Join(base, "postgres.log")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.Port = ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	c.URL = fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", c.Port)

	c.run("initdb", "-D", c.dir, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--no-sync")
	conf := fmt.Sprintf("\nport = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n"+
		"fsync = off\nmax_connections = 200\n", c.Port, base)
	f, err := os.OpenFile(filepath.Join(c.dir, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(conf)
	f.Close()
	c.Start()
	t.Cleanup(func() {
		// Immediate: the data folder goes anyway.
		c.pgctl("stop", "-m", "immediate")
	})
	return c
}

// postgresBin finds the folder of the newest PostgreSQL's initdb and pg_ctl.
func postgresBin() string {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool {
		vi, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[i])))
		vj, _ := strconv.Atoi(filepath.Base(filepath.Dir(dirs[j])))
		return vi > vj
	})
	for _, d := range dirs {
		if _, err := os.Stat(filepath.Join(d, "pg_ctl")); err == nil {
			return d
		}
	}
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		if _, err := exec.LookPath("initdb"); err == nil {
			return filepath.Dir(p)
		}
	}
	return ""
}

// run runs one of PostgreSQL's programs, as the postgres user when the test
// runs as root, failing the test if it fails.
func (c *Cluster) run(prog string, args ...string) {
	c.t.Helper()
	if out, err := c.command(prog, args...).CombinedOutput(); err != nil {
		log, _ := os.ReadFile(c.logLoc)
		c.t.Fatalf("%s %s: %v\n%s\nserver log:\n%s", prog, strings.Join(args, " "), err, out, log)
	}
}

func (c *Cluster) command(prog string, args ...string) *exec.Cmd {
	path := filepath.Join(c.bin, prog)
	if c.runAs != "" {
		return exec.Command("runuser", append([]string{"-u", c.runAs, "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

func (c *Cluster) pgctl(args ...string) error {
	return c.command("pg_ctl", append([]string{"-D", c.dir, "-l", c.logLoc, "-w", "-t", "60"}, args...)...).Run()
}

// Start starts the cluster and waits until it accepts connections.
func (c *Cluster) Start() {
	c.t.Helper()
	c.run("pg_ctl", "-D", c.dir, "-l", c.logLoc, "-w", "-t", "60", "start")
}

// Stop shuts the cluster down the way an operator restarting it does
// (pg_ctl stop -m fast: open sessions are terminated) and waits until it
// has stopped.
func (c *Cluster) Stop() {
	c.t.Helper()
	c.run("pg_ctl", "-D", c.dir, "-l", c.logLoc, "-w", "-t", "60", "stop", "-m", "fast")
}
