package main

import (
	"context"
	"flag"
	"io"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// helpFlag is a flag as -h shows it.
type helpFlag struct {
	name, typ, env string
}

var (
	helpFlagLine = regexp.MustCompile(`^  -([a-z0-9-]+)(?: (\S+))?$`)
	helpEnvName  = regexp.MustCompile(`\(([A-Z][A-Z0-9_]*)\)`)
	helpEnvOnly  = regexp.MustCompile(`^  ([A-Z][A-Z0-9_]*)$`)
)

// parseHelp reads the flags of a command's -h output, with the environment
// variable each names, and the variables listed without a flag.
func parseHelp(t *testing.T, out string) (flags []helpFlag, envOnly []string) {
	t.Helper()
	inEnvOnly := false
	for _, line := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(line, "Environment variables without a flag"):
			inEnvOnly = true
		case inEnvOnly && helpEnvOnly.MatchString(line):
			envOnly = append(envOnly, helpEnvOnly.FindStringSubmatch(line)[1])
		case !inEnvOnly && helpFlagLine.MatchString(line):
			m := helpFlagLine.FindStringSubmatch(line)
			flags = append(flags, helpFlag{name: m[1], typ: m[2]})
		case !inEnvOnly && strings.HasPrefix(line, "    \t") && len(flags) > 0:
			if m := helpEnvName.FindStringSubmatch(line); m != nil {
				flags[len(flags)-1].env = m[1]
			}
		}
	}
	return flags, envOnly
}

// helpCommands are the command lines whose help is checked: every command,
// and every subcommand of those that have them.
func helpCommands() [][]string {
	subs := map[string][]string{
		"events":    {"list", "get", "resend"},
		"endpoints": {"list", "create", "delete"},
		"bench":     {"max"},
	}
	out := [][]string{{"help"}}
	for name := range commands {
		if s, ok := subs[name]; ok {
			for _, sub := range s {
				out = append(out, []string{name, sub, "-h"})
			}
			out = append(out, []string{name, "-h"})
			continue
		}
		out = append(out, []string{name, "-h"})
	}
	sort.Slice(out, func(i, j int) bool { return strings.Join(out[i], " ") < strings.Join(out[j], " ") })
	return out
}

// TestHelpShowsNoSecret runs every command's -h with every environment
// variable the help names set to a recognizable value, and checks that no
// value shows and the help reads as it does without them: help shows the
// built-in defaults, never the environment (which holds API keys, signing
// secrets, database passwords).
func TestHelpShowsNoSecret(t *testing.T) {
	for name := range flagEnv {
		t.Setenv(flagEnv[name], "") // a clean environment first
		os.Unsetenv(flagEnv[name])
	}
	help := map[string]string{}
	vars := map[string]string{} // variable → the flag's type
	for _, args := range helpCommands() {
		code, out, errOut := runCmd(context.Background(), args...)
		if code != 0 {
			t.Fatalf("%v: exit %d, stderr %s", args, code, errOut)
		}
		help[strings.Join(args, " ")] = out + errOut
		flags, envOnly := parseHelp(t, out+errOut)
		for _, f := range flags {
			if f.env != "" {
				vars[f.env] = f.typ
			}
		}
		for _, v := range envOnly {
			vars[v] = "string"
		}
	}
	for _, v := range []string{"SWITCHBOARD_API_KEY", "SWITCHBOARD_LISTEN_SECRET", "SWITCHBOARD_DB"} {
		if _, ok := vars[v]; !ok {
			t.Fatalf("no help names %s", v)
		}
	}
	// A value of the variable's type that help could not show by chance.
	values := map[string]string{}
	for v, typ := range vars {
		switch typ {
		case "duration":
			values[v] = "987654s"
		case "int", "uint", "int64", "uint64", "float":
			values[v] = "987654"
		case "": // a bool flag: its values are no secret, and too common to look for
			continue
		default:
			values[v] = "sentinel_" + strings.ToLower(v)
		}
		if v == "SWITCHBOARD_DB" {
			values[v] = "postgres://app:sentinel_password@db.example.com/app"
		}
		t.Setenv(v, values[v])
	}
	for _, args := range helpCommands() {
		name := strings.Join(args, " ")
		code, out, errOut := runCmd(context.Background(), args...)
		if code != 0 {
			t.Errorf("%s with the environment set: exit %d, stderr %s", name, code, errOut)
			continue
		}
		for v, val := range values {
			if strings.Contains(out+errOut, val) || (v == "SWITCHBOARD_DB" && strings.Contains(out+errOut, "sentinel_password")) {
				t.Errorf("%s shows the value of %s", name, v)
			}
		}
		if out+errOut != help[name] {
			t.Errorf("%s reads differently with the environment set:\n%s\nwithout:\n%s", name, out+errOut, help[name])
		}
	}
}

// TestServeHelpMatchesREADME checks that serve -h and the README's
// configuration table name the same flags and environment variables, and
// that every flag has its variable.
func TestServeHelpMatchesREADME(t *testing.T) {
	code, out, errOut := runCmd(context.Background(), "serve", "-h")
	if code != 0 {
		t.Fatalf("serve -h: exit %d", code)
	}
	flags, envOnly := parseHelp(t, out+errOut)
	if len(flags) < 10 {
		t.Fatalf("serve -h shows %d flags; the parser lost them:\n%s", len(flags), errOut)
	}
	var fromHelp []string
	for _, f := range flags {
		if f.env == "" {
			t.Errorf("serve --%s has no environment variable: add it to flagEnv", f.name)
		}
		fromHelp = append(fromHelp, "--"+f.name+" "+f.env)
	}
	for _, v := range envOnly {
		fromHelp = append(fromHelp, "— "+v)
	}
	fromREADME := readmeConfiguration(t)
	sort.Strings(fromHelp)
	sort.Strings(fromREADME)
	for _, row := range fromHelp {
		if !slices.Contains(fromREADME, row) {
			t.Errorf("serve -h has %q; the README's configuration table does not", row)
		}
	}
	for _, row := range fromREADME {
		if !slices.Contains(fromHelp, row) {
			t.Errorf("the README's configuration table has %q; serve -h does not", row)
		}
	}
}

// readmeConfiguration returns the rows of the README's configuration table
// as "--flag VARIABLE", or "— VARIABLE" for a variable without a flag.
func readmeConfiguration(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(b), "\n## Configuration\n")
	if !ok {
		t.Fatal("README.md has no ## Configuration section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	var rows []string
	for _, line := range strings.Split(section, "\n") {
		if !strings.HasPrefix(line, "| ") {
			continue
		}
		cells := strings.Split(line, "|")
		if len(cells) < 4 {
			continue
		}
		fl := strings.Trim(strings.TrimSpace(cells[1]), "`")
		env := strings.Trim(strings.TrimSpace(cells[2]), "`")
		switch {
		case fl == "flag" || strings.HasPrefix(fl, "---"):
			continue // header and rule
		case fl == "—":
			rows = append(rows, "— "+env)
		default:
			rows = append(rows, fl+" "+env)
		}
	}
	if len(rows) == 0 {
		t.Fatal("the README's configuration table has no rows")
	}
	return rows
}

// TestBindEnv checks that a variable sets its flag, the command line wins
// over it, and a bad value is an error that names the variable, not the
// value.
func TestBindEnv(t *testing.T) {
	newSet := func() (*flag.FlagSet, *time.Duration, *string, *bool) {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		d := fs.Duration("webhook-timeout", 15*time.Second, "")
		s := fs.String("api-key", "", "")
		b := fs.Bool("allow-private-endpoints", true, "")
		fs.Int("limit", 20, "") // no variable
		return fs, d, s, b
	}
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		timeout time.Duration
		key     string
		private bool
		err     string
	}{
		{"defaults", nil, nil, 15 * time.Second, "", true, ""},
		{"from the environment", map[string]string{"SWITCHBOARD_WEBHOOK_TIMEOUT": "3s", "SWITCHBOARD_API_KEY": "sk_env",
			"SWITCHBOARD_ALLOW_PRIVATE_ENDPOINTS": "off"}, nil, 3 * time.Second, "sk_env", false, ""},
		{"the command line wins", map[string]string{"SWITCHBOARD_WEBHOOK_TIMEOUT": "3s", "SWITCHBOARD_API_KEY": "sk_env"},
			[]string{"--webhook-timeout", "4s", "--api-key", "sk_flag"}, 4 * time.Second, "sk_flag", true, ""},
		{"a bad value", map[string]string{"SWITCHBOARD_WEBHOOK_TIMEOUT": "soon"}, nil, 0, "", true, "invalid SWITCHBOARD_WEBHOOK_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, v := range []string{"SWITCHBOARD_WEBHOOK_TIMEOUT", "SWITCHBOARD_API_KEY", "SWITCHBOARD_ALLOW_PRIVATE_ENDPOINTS"} {
				t.Setenv(v, "")
				os.Unsetenv(v)
			}
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			fs, d, s, b := newSet()
			err := bindEnv(fs)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || strings.Contains(err.Error(), "soon") {
					t.Fatalf("error %v, want one naming the variable (%s) without its value", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if err := fs.Parse(tt.args); err != nil {
				t.Fatal(err)
			}
			if *d != tt.timeout || *s != tt.key || *b != tt.private {
				t.Errorf("got timeout %v key %q private %v, want %v %q %v", *d, *s, *b, tt.timeout, tt.key, tt.private)
			}
		})
	}
}

// TestBareCommandShowsUsage checks that switchboard without a command is a
// usage error, and help is not.
func TestBareCommandShowsUsage(t *testing.T) {
	code, out, errOut := runCmd(context.Background())
	if code != 2 || out != "" || !strings.Contains(errOut, "Usage: switchboard <command>") {
		t.Errorf("bare switchboard: exit %d, stdout %q, stderr %q; want 2 and the usage on stderr", code, out, errOut)
	}
	for _, arg := range []string{"help", "-h", "--help"} {
		code, out, _ := runCmd(context.Background(), arg)
		if code != 0 || !strings.Contains(out, "Usage: switchboard <command>") {
			t.Errorf("switchboard %s: exit %d, stdout %q; want 0 and the usage", arg, code, out)
		}
	}
	code, _, errOut = runCmd(context.Background(), "frobnicate")
	if code != 2 || !strings.Contains(errOut, `unknown command "frobnicate"`) {
		t.Errorf("unknown command: exit %d, stderr %q", code, errOut)
	}
}
