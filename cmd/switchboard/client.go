package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/switchboard-dev/switchboard/internal/client"
)

// apiFlags are the flags of every command that talks to a running server.
type apiFlags struct {
	url, key, project string
	json              bool
}

// addAPIFlags binds the API flags to fs, with their environment defaults.
func addAPIFlags(fs *flag.FlagSet) *apiFlags {
	f := &apiFlags{}
	fs.StringVar(&f.url, "api-url", client.DefaultURL, "the server's base URL")
	fs.StringVar(&f.key, "api-key", "", "the project's API key")
	fs.StringVar(&f.project, "project", client.DefaultProject, "the project")
	fs.BoolVar(&f.json, "json", false, "print JSON instead of a table, for scripts")
	return f
}

// client returns the API client the flags describe.
func (f *apiFlags) client() (*client.Client, error) {
	if f.key == "" {
		return nil, errors.New("no API key: pass --api-key or set SWITCHBOARD_API_KEY (serve prints one on first start)")
	}
	return client.New(f.url, f.key, f.project), nil
}

// parseInterspersed sets the flags from their environment variables, then
// parses flags that may come before, between or after the positional
// arguments, and returns the positional arguments.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	if err := bindEnv(fs); err != nil {
		return nil, err
	}
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, flagError(err)
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// writeTable writes rows under a header, in aligned columns.
func writeTable(w io.Writer, header []string, rows [][]string) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write table: %w", err)
	}
	return nil
}

// writeJSON writes v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write JSON: %w", err)
	}
	return nil
}

// formatTime renders a timestamp for a table.
func formatTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

// orDash returns s, or "-" when it is empty.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// splitList splits a comma-separated flag value, dropping empty parts.
func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// usageErr is a command used wrongly: run exits 2 for it, as the flag
// package does.
type usageErr struct{ msg string }

func (e *usageErr) Error() string { return e.msg }

// usageError reports a command used wrongly.
func usageError(format string, args ...any) error {
	return &usageErr{fmt.Sprintf("%s (see -h)", fmt.Sprintf(format, args...))}
}

// flagError makes a flag parsing error a usage error; -h stays flag.ErrHelp.
func flagError(err error) error {
	if err == nil || errors.Is(err, flag.ErrHelp) {
		return err
	}
	return &usageErr{err.Error()}
}
